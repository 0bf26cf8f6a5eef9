"""gunicorn settings of the production command (README, docs/deploy.md):

    gunicorn -c gunicorn.conf.py settings.wsgi

Threaded workers (gthread): each worker process serves `threads` requests at once, and
its main loop tells the arbiter it is alive every second whatever its threads are doing,
so `timeout` bounds a hung worker, never a long request: a 1,000,000-row export streams
for as long as it takes. A sync worker is killed at `timeout` in the middle of its
response, whatever it streams (the client gets HTTP 200 and a truncated file).

Every value can be changed on the command line (`--workers 8`) or with
GUNICORN_CMD_ARGS; WEB_CONCURRENCY sets the number of workers.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# Worker processes: about 2 per CPU core (Python runs one thread at a time per process).
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2))
# Requests served at once per worker; each thread holds its own database connection
# (CONN_MAX_AGE), so an app server opens up to workers x threads connections.
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A worker whose main loop is silent this long is killed and replaced (not a request limit).
timeout = 30
# On a restart (SIGHUP, deploy), requests in flight get this long to finish: long exports
# still running then are cut, so restart outside export-heavy hours or raise it.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 120))
# Idle keep-alive connections (behind a load balancer that reuses them).
keepalive = 5
