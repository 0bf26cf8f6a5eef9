"""psycopg 3 against psycopg2 on the API benchmark (issue 21), interleaved.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cbm_bench \\
        .venv/bin/python bench/driver_compare.py --psycopg3-python /tmp/venv3/bin/python

Django picks psycopg 3 whenever it is installed, so the two drivers need two virtual
environments: this one (psycopg2, today's hand-made PREPARE in database/prepared.py,
CONN_MAX_AGE) and another with the same pins plus psycopg[binary,pool] ==3.3.9:
    python3 -m venv /tmp/venv3 && /tmp/venv3/bin/pip install '.[dev]' 'psycopg[binary,pool]==3.3.9'
The psycopg 3 runs use bench/bench_settings_psycopg3.py (Django's pool, server-side
binding, database.prepared turned off). Each round runs bench/api_load.py once with each
driver (alternating which goes first); it prints requests/s of the bare view, authorize
and contended calls, medians [min-max] over the rounds, and psycopg 3 / psycopg2.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, print_table  # noqa: E402

API_LOAD = Path(__file__).with_name("api_load.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--psycopg3-python", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    configs = {
        "psycopg2 + PREPARE": [sys.executable, str(API_LOAD)],
        "psycopg 3 + pool + server-side binding": [
            args.psycopg3_python,
            str(API_LOAD),
            "--settings",
            "bench.bench_settings_psycopg3",
        ],
    }
    figures: dict[str, dict[str, list[float]]] = {label: {} for label in configs}
    for round_number in range(args.rounds):
        order = list(configs.items())
        if round_number % 2:
            order.reverse()
        for label, command in order:
            done = subprocess.run(
                [*command, "--seconds", str(args.seconds), "--repeats", "1", "--json"],
                capture_output=True, text=True, cwd=ROOT, timeout=900,
            )  # fmt: skip
            if done.returncode != 0:
                sys.stderr.write(done.stdout + done.stderr)
                raise SystemExit(f"{label}: api_load.py failed")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"round {round_number + 1}, {label} ({result['driver']}): "
                  + ", ".join(f"{k} {v[0]:,.0f}/s" for k, v in result.items()
                              if isinstance(v, list)), flush=True)  # fmt: skip
            for key in ("bare", "authorize", "calls", "pgbench"):
                figures[label].setdefault(key, []).extend(result[key])

    def per_round(by_key, a, b) -> str:
        ratios = [x / y for x, y in zip(by_key[a], by_key[b], strict=True)]
        return f"{statistics.median(ratios):.0%}"

    rows = []
    for label, by_key in figures.items():
        cells = [
            f"{statistics.median(v):,.0f} [{min(v):,.0f}-{max(v):,.0f}]"
            for v in (by_key["bare"], by_key["authorize"], by_key["calls"], by_key["pgbench"])
        ]
        rows.append((label, *cells, per_round(by_key, "authorize", "bare"),
                     per_round(by_key, "calls", "pgbench")))  # fmt: skip
    print_table(f"Requests/s, median [min-max] of {args.rounds} rounds", rows,
                ("driver", "bare view", "authorize", "calls", "pgbench",
                 "authorize/bare", "calls/pgbench"))  # fmt: skip
    two, three = figures.values()
    print("\npsycopg 3 / psycopg2 (medians):")
    for key in ("bare", "authorize", "calls"):
        print(f"  {key}: {statistics.median(three[key]) / statistics.median(two[key]):.2f}x")


if __name__ == "__main__":
    main()
