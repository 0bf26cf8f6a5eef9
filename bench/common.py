"""Shared helpers of the benchmarks in bench/ (not tests: they print figures and ratios).

Every benchmark runs against DATABASE_URL (PostgreSQL; the scripts refuse a database whose
name does not contain "bench", so a production database is never touched) with DEBUG off,
so no query log grows with the rows.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# What bench/seed.py creates; the other benchmarks look these up.
BIG_EXTENSION = "8000*001"  # 100,000 CallerIDs
HOT_NUMBER = "+40800000000"  # the CallerID the contended-calls benchmark charges
ADMIN_USERNAME = "bench-admin"
RESELLER_PREFIX = "Bench reseller"


def setup_django(*, settings_module: str = "settings.base") -> None:
    """Configure Django for a benchmark process (DEBUG off, bench-only secrets)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    os.environ.setdefault("PIN_PEPPER", "bench-only-pepper-never-for-production")
    # No collectstatic for a benchmark: static URLs without the manifest (a dict lookup
    # either way).
    os.environ.setdefault("STATIC_MANIFEST", "false")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


def require_bench_database() -> str:
    """The database name; exits unless it is PostgreSQL with "bench" in its name."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in str(name):
        sys.exit(
            "Refusing to run: set DATABASE_URL to a PostgreSQL database whose name contains "
            "'bench', e.g. postgres://postgres@127.0.0.1:5432/cbm_bench"
        )
    return name


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB (VmHWM from /proc, else getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def stopwatch():
    """`with stopwatch() as t: ...` then t() is the elapsed seconds (frozen at exit)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def run_child(script: Path, *args: str, env: dict | None = None, timeout: int = 1800) -> dict:
    """Run `script` in its own Python process (its RSS is its own); it prints one JSON line
    last on stdout, which is returned."""
    completed = subprocess.run(
        [PYTHON, str(script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"{script.name} {' '.join(args)} failed ({completed.returncode})")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def print_table(title: str, rows: list[tuple], header: tuple) -> None:
    """A plain aligned table on stdout."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  " + "  ".join("-" * w for w in widths))
