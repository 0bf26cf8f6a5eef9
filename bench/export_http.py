"""Exports over HTTP through the production server, under load (issue 21).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench .venv/bin/python bench/export_http.py
    ... bench/export_http.py --repeats 3 --baseline-rows 100000
    ... bench/export_http.py --worker-class sync --repeats 1   # the old command: see it fail

gunicorn is started with the README's production command (`-c gunicorn.conf.py`: gthread
workers, timeout 30 s), bound to 127.0.0.1. While load clients in other processes call
POST /api/v1/callback/authorize without pause, the script downloads GET
/exports/callerids_all.csv and .xlsx (every CallerID, 1,000,000 after bench/seed.py) as
bench-admin, interleaved with the baselines, `--repeats` times each:
  - `psql -c "\\copy (<the exporter's own SELECT>) TO file WITH (FORMAT csv, HEADER)"`;
  - openpyxl write-only with lxml and xlsxwriter constant_memory writing the same rows and
    cells (bench/export_perf.py's children), on --baseline-rows rows extrapolated linearly.
Every downloaded file is checked: HTTP 200, the chunked body complete, the CSV's line count,
the XLSX read back with python-calamine (row count over every sheet, first rows against the
database). Goals: CSV <= 2x psql \\copy; XLSX >= 8x faster than openpyxl with lxml; every
download complete and readable. Medians with [min-max]; the machine's CPUs are shared by
the client, the load, gunicorn and PostgreSQL, so compare ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_USERNAME,
    BIG_EXTENSION,
    print_table,
    require_bench_database,
    run_child,
    setup_django,
    verdict,
)
from bench.server import (  # noqa: E402
    HOST,
    BackgroundLoad,
    free_port,
    start_gunicorn,
    stop,
)

GOAL_CSV_VS_COPY = 2.0
GOAL_XLSX_VS_OPENPYXL = 8.0
EXPORT_PERF = Path(__file__).with_name("export_perf.py")


def authorize_requests(token: str, numbers: list[str]):
    """Request maker for the background load (runs in the load processes)."""
    import random

    def make(client: int, n: int):
        rng = random.Random(client * 100_003 + n)
        body = json.dumps({"extension": BIG_EXTENSION, "caller_id": rng.choice(numbers)})
        return (
            "POST",
            "/api/v1/callback/authorize",
            body.encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )

    return make


def download(port: int, path: str, cookie: str, output: str) -> dict:
    """GET path into output; status, size, first byte, total, and whether the body is
    complete (http.client raises IncompleteRead when a chunked body is cut)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
    response = connection.getresponse()
    first = None
    size = 0
    complete = True
    error = ""
    with open(output, "wb") as sink:
        try:
            while chunk := response.read1(1 << 20):
                if first is None:
                    first = time.perf_counter()
                sink.write(chunk)
                size += len(chunk)
        except (http.client.IncompleteRead, OSError) as exc:
            complete, error = False, repr(exc)[:120]
    total = time.perf_counter() - started
    connection.close()
    return {
        "status": response.status,
        "bytes": size,
        "first_byte_s": (first or time.perf_counter()) - started,
        "total_s": total,
        "complete": complete,
        "error": error,
    }


def psql_copy(sql: str, output: str) -> float:
    from django.db import connection

    settings = connection.settings_dict
    started = time.perf_counter()
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
         "-h", settings["HOST"] or HOST, "-p", str(settings["PORT"] or 5432),
         "-U", settings["USER"] or "postgres", "-d", settings["NAME"],
         "-c", f"\\copy ({sql}) TO '{output}' WITH (FORMAT csv, HEADER)"],
        check=True, env={**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""},
    )  # fmt: skip
    return time.perf_counter() - started


def count_csv_rows(path: str) -> tuple[int, bool]:
    with open(path, "rb") as handle:
        head = handle.read(3)
        handle.seek(0)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return lines - 1, head == b"\xef\xbb\xbf"


def read_xlsx(path: str) -> tuple[int, int, list]:
    """python-calamine: sheets, data rows over every sheet, the first 3 rows."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(path)
    rows = 0
    head: list = []
    for name in workbook.sheet_names:
        for index, row in enumerate(workbook.get_sheet_by_name(name).iter_rows()):
            if index == 0:
                continue
            rows += 1
            if len(head) < 3:
                head.append(row)
    return len(workbook.sheet_names), rows, head


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} [{min(values):.1f}-{max(values):.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--load-threads", type=int, default=4)
    parser.add_argument("--worker-class", help="override gunicorn.conf.py (e.g. sync)")
    parser.add_argument("--workers", type=int, help="override gunicorn.conf.py")
    args = parser.parse_args()
    if args.load_processes * args.load_threads > 40:
        raise SystemExit("Keep the load bounded: at most 40 client threads.")
    setup_django(settings_module="bench.bench_settings")
    name = require_bench_database()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.export_perf import _exporter
    from callback.models import CallbackExtension
    from callerids.models import AuthorizedCallerID, CallerIDStatus
    from tenancy.audit import Actor
    from tenancy.services.tokens import create_token, revoke_token

    total = AuthorizedCallerID.objects.exclude(status=CallerIDStatus.REMOVED).count()
    exporter = _exporter()
    first_numbers = list(exporter.values().values_list("number", flat=True)[:3])
    sql, params = exporter.values().query.sql_with_params()
    with connection.cursor() as cursor:
        query = cursor.cursor.mogrify(sql, params).decode()
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    cookie = client.cookies["sessionid"].value
    numbers = list(
        AuthorizedCallerID.objects.filter(
            extension=CallbackExtension.objects.get(number=BIG_EXTENSION),
            status=CallerIDStatus.ENABLED,
        ).values_list("number", flat=True)[:2000]
    )
    new = create_token(actor=Actor(), name=f"bench export {time.time_ns()}", reseller=None)
    connection.close()

    extra = []
    if args.worker_class:
        extra += ["--worker-class", args.worker_class]
        if args.worker_class == "sync":
            extra += ["--threads", "1"]  # gunicorn turns sync with threads > 1 into gthread
    if args.workers:
        extra += ["--workers", str(args.workers)]
    port = free_port()
    print(
        f"database {name}: {total:,} CallerIDs in callerids_all; gunicorn -c gunicorn.conf.py "
        f"{' '.join(extra)} on {HOST}:{port}; background load: {args.load_processes} processes "
        f"x {args.load_threads} threads calling authorize; CPUs: {os.cpu_count()} (shared)"
    )
    tmp = tempfile.mkdtemp(prefix="export_http_")
    files = {k: os.path.join(tmp, f"out.{k}") for k in ("copy", "csv", "xlsx")}
    times: dict[str, list[float]] = {k: [] for k in ("copy", "csv", "xlsx", "openpyxl",
                                                      "xlsxwriter")}  # fmt: skip
    first_bytes: dict[str, list[float]] = {"csv": [], "xlsx": []}
    checks: list[tuple[str, bool]] = []
    base = {"openpyxl": None, "xlsxwriter": None}
    gunicorn = start_gunicorn(port, *extra)
    try:
        with BackgroundLoad(
            port,
            authorize_requests,
            (new.plaintext, numbers),
            processes=args.load_processes,
            threads=args.load_threads,
        ) as bg:
            for repeat in range(args.repeats):
                times["copy"].append(psql_copy(query, files["copy"]))
                for fmt in ("csv", "xlsx"):
                    result = download(port, f"/exports/callerids_all.{fmt}", cookie, files[fmt])
                    ok = result["status"] == 200 and result["complete"]
                    detail = ""
                    if ok and fmt == "csv":
                        rows, bom = count_csv_rows(files[fmt])
                        ok = rows == total and bom
                        detail = f"{rows:,} data rows, BOM {'yes' if bom else 'no'}"
                    elif ok:
                        try:
                            sheets, rows, head = read_xlsx(files[fmt])
                        except Exception as exc:  # a truncated file does not open
                            ok, detail = False, f"does not open: {exc!r}"[:160]
                        else:
                            ok = rows == total and [r[0] for r in head] == first_numbers
                            detail = f"calamine: {sheets} sheets, {rows:,} data rows"
                    else:
                        detail = result["error"]
                    checks.append((
                        f"run {repeat + 1} {fmt.upper()}: HTTP {result['status']}, "
                        f"{result['bytes'] / 1e6:.1f} MB in {result['total_s']:.1f} s, "
                        f"{'complete' if result['complete'] else 'CUT'}; {detail} "
                        f"(expected {total:,})", ok))  # fmt: skip
                    times[fmt].append(result["total_s"])
                    first_bytes[fmt].append(result["first_byte_s"])
                for key in ("openpyxl", "xlsxwriter"):
                    r = run_child(EXPORT_PERF, "--child", key,
                                  "--openpyxl-rows", str(args.baseline_rows))  # fmt: skip
                    base[key] = r
                    times[key].append(r["total_s"] * total / r["rows"])
        load_result = bg.result
    finally:
        stop(gunicorn)
        revoke_token(actor=Actor(), token=new.token)
    copy_rows, _ = count_csv_rows(files["copy"])
    for path in files.values():
        if os.path.exists(path):
            os.unlink(path)
    os.rmdir(tmp)

    rows = [
        ("psql \\copy (same SELECT) to a file", spread(times["copy"]), "", f"{copy_rows:,}"),
        ("CSV over HTTP (gunicorn, under load)", spread(times["csv"]),
         spread(first_bytes["csv"]), f"{total:,}"),
        ("XLSX over HTTP (gunicorn, under load)", spread(times["xlsx"]),
         spread(first_bytes["xlsx"]), f"{total:,}"),
        (f"{base['openpyxl']['mode']}, x{total / args.baseline_rows:.0f}",
         spread(times["openpyxl"]), "", f"{args.baseline_rows:,} extrapolated"),
        (f"{base['xlsxwriter']['mode']}, x{total / args.baseline_rows:.0f}",
         spread(times["xlsxwriter"]), "", f"{args.baseline_rows:,} extrapolated"),
    ]  # fmt: skip
    print_table(f"Seconds, median [min-max] of {args.repeats} interleaved runs", rows,
                ("run", "total s", "first byte s", "rows"))  # fmt: skip
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(load_result["statuses"].items()))
    print(f"\nbackground load: {load_result['requests']:,} authorize requests, "
          f"{load_result['rps']:,.0f}/s, p99 {load_result['p99_ms']:.0f} ms ({statuses}; "
          f"errors {load_result['errors']})")  # fmt: skip
    csv_ratio = statistics.median(times["csv"]) / statistics.median(times["copy"])
    csv_ratios = [c / p for c, p in zip(times["csv"], times["copy"], strict=True)]
    xlsx_speedup = statistics.median(times["openpyxl"]) / statistics.median(times["xlsx"])
    xlsx_speedups = [o / x for o, x in zip(times["openpyxl"], times["xlsx"], strict=True)]
    xw_speedup = statistics.median(times["xlsxwriter"]) / statistics.median(times["xlsx"])
    print("\nDownloads")
    for text, ok in checks:
        print(f"  [{'OK' if ok else 'FAILED'}] {text}")
    print("\nGoals")
    print(f"  [{verdict(csv_ratio <= GOAL_CSV_VS_COPY)}] CSV over HTTP / psql \\copy = "
          f"{csv_ratio:.2f}x [{min(csv_ratios):.2f}-{max(csv_ratios):.2f} per run] "
          f"(goal <= {GOAL_CSV_VS_COPY:.0f}x)")  # fmt: skip
    print(f"  [{verdict(xlsx_speedup >= GOAL_XLSX_VS_OPENPYXL)}] XLSX over HTTP "
          f"{xlsx_speedup:.1f}x faster than openpyxl with lxml "
          f"[{min(xlsx_speedups):.1f}-{max(xlsx_speedups):.1f} per run] (goal >= 8x); "
          f"{xw_speedup:.1f}x faster than xlsxwriter constant_memory")  # fmt: skip
    every_ok = all(ok for _, ok in checks)
    print(f"  [{verdict(every_ok)}] every download complete, HTTP 200 and readable "
          f"({sum(ok for _, ok in checks)}/{len(checks)})")  # fmt: skip


if __name__ == "__main__":
    main()
