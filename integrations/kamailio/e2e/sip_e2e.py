"""Real SIP calls through Kamailio and the API, checked end to end (SPEC §15): `make sip-e2e`.

Starts, on 127.0.0.1 only and each under coreutils `timeout`: the application under
gunicorn on the PostgreSQL database of DATABASE_URL, Kamailio with
integrations/kamailio/kamailio.cfg, a sipp callee (the "carrier"), and sipp callers. Seeds
its own reseller, extension, CallerIDs and API token through the management commands and
the services, places the calls, stops the API for a moment (new calls must get 503), starts
it again, then checks through the API and the database that every call was admitted,
refused, cut and charged as SPEC §11 says. Prints one summary line; exits 1 on any failure.

Every process it starts is recorded by pid and stopped by that pid (TERM, then KILL).

Environment: DATABASE_URL (postgres://..., required), SIP_E2E_HTTP_PORT (default 8230),
SIP_E2E_SIP_PORT (default 5070; the 29 ports above it are used too), SIP_E2E_WORKDIR (logs;
default a fresh temporary directory, kept and printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KAMAILIO_CFG = HERE.parent / "kamailio.cfg"
PYTHON = sys.executable

RATE = Decimal("0.6000")  # per minute: 0.01 a second, easy to check by hand
FEE = Decimal("0.0100")
DESTINATION = "+40213000000"  # a Bucharest fixed line
PREMIUM = "+40900123456"  # premium rate: refused by the default destination rules
BLOCKED = "+40213777000"  # under a prefix this run's reseller blocks
BUSY = "+40213999999"  # the callee answers 486 Busy Here: allowed, never connected
PER_CALLERID_LIMIT = 2  # the extension's maximum simultaneous calls per CallerID
MAX_CALL_DURATION_S = 60  # the extension's maximum call duration (the smallest allowed)
TALK_MS = 1000  # how long the ordinary callers talk
MIXED_RATE = 5  # calls a second
MIN_GAP_ROWS = 8  # 1.6 s between two calls of one CallerID in the mixed phase
BURST_TALK_MS = 4000
BURST_CALLS = 5
INFLIGHT_TALK_MS = 6000  # a call in progress when the API stops; it ends while it is down
OUTAGE_CALLS = 3
CUT_TOLERANCE_S = 2.0
CENT = Decimal("0.0001")
# Every long-lived process (gunicorn, Kamailio, the callee) ends by itself after this, even
# if this script is killed; `make sip-e2e` stops the script itself after 600 s.
SERVICE_LIMIT_S = 540


def log(message: str) -> None:
    print(f"[sip-e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- the plan of callers


@dataclass
class Caller:
    key: str
    number: str  # as sent in From (and stored, normalized, as the CallerID)
    credit: Decimal | None = None  # None: Unlimited; not in the list when listed=False
    listed: bool = True
    disabled: bool = False
    limit_s: int | None = None  # the time limit its credit buys (credit-limited callers)
    pk: int | None = None


def limit_for(credit: Decimal) -> int:
    return int((credit - FEE) * 60 / RATE)


CALLERS = {
    **{
        f"R{i:02d}": Caller(f"R{i:02d}", f"+407211000{i:02d}", Decimal("5.00"))
        for i in range(1, 11)
    },
    "U": Caller("U", "+40721200001", None),
    "L1": Caller("L1", "+40721300001", Decimal("0.06")),
    "L2": Caller("L2", "+40721300002", Decimal("0.06")),
    "L3": Caller("L3", "+40721300003", Decimal("0.09")),
    "L4": Caller("L4", "+40721300004", Decimal("0.09")),
    "B": Caller("B", "+40721400001", Decimal("5.00")),
    "D": Caller("D", "+40721500001", Decimal("5.00"), disabled=True),
    "Z": Caller("Z", "+40721600001", Decimal("0")),
    **{f"N{i}": Caller(f"N{i}", f"+4079900000{i}", listed=False) for i in range(1, 5)},
    "H": Caller("H", "anonymous", listed=False),
}
for _caller in CALLERS.values():
    if _caller.key.startswith("L"):
        _caller.limit_s = limit_for(_caller.credit)
BY_NUMBER = {c.number: c for c in CALLERS.values()}

# What each kind of call must get: ("allowed", None) or ("refused", reason).
EXPECTED_REFUSAL = {
    "N": "not_authorized",
    "H": "hidden_callerid",
    "D": "disabled",
    "Z": "no_credit",
}


def mixed_rows() -> list[tuple[str, str]]:
    """50 calls in 4 rounds. A CallerID keeps its place in every round, so its calls are at
    least MIN_GAP_ROWS apart (at 5 calls a second and 1 s of talk, never two at once): only
    the burst phase meets the simultaneous-call limit."""
    regular = [(f"R{i:02d}", DESTINATION) for i in range(1, 11)]
    rounds = [
        regular + [("U", DESTINATION), ("N1", DESTINATION), ("D", DESTINATION), ("H", DESTINATION)],
        regular + [("U", DESTINATION), ("N2", DESTINATION), ("Z", DESTINATION), ("H", DESTINATION)],
        regular + [("U", DESTINATION), ("N3", DESTINATION), ("D", DESTINATION), ("Z", DESTINATION)],
        [("N4", DESTINATION), ("R01", PREMIUM), ("R06", PREMIUM), ("R04", BUSY), ("R09", BUSY)]
        + [("U", DESTINATION), ("R02", BLOCKED), ("R07", BLOCKED)],
    ]
    rows = [row for one_round in rounds for row in one_round]
    last_seen: dict[str, int] = {}
    for index, (key, destination) in enumerate(rows):
        if expected_outcome(key, destination)[0] == "refused":
            continue  # a refused call holds nothing
        if key in last_seen and index - last_seen[key] < MIN_GAP_ROWS:
            raise AssertionError(
                f"{key} calls too close in the plan: rows {last_seen[key]}, {index}"
            )
        last_seen[key] = index
    return rows


def expected_outcome(key: str, destination: str) -> tuple[str, str | None]:
    prefix = key.rstrip("0123456789")
    if prefix in EXPECTED_REFUSAL:
        return "refused", EXPECTED_REFUSAL[prefix]
    if destination == PREMIUM:
        return "refused", "premium_rate"
    if destination == BLOCKED:
        return "refused", "destination_blocked"
    if destination == BUSY:
        return "busy", None
    return "allowed", None


# ---------------------------------------------------------------- processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    logfile: Path


class Processes:
    """Everything this run started, stopped by pid (TERM, wait, then KILL), newest first."""

    def __init__(self) -> None:
        self.running: list[Proc] = []

    def start(self, name: str, argv: list[str], workdir: Path, *, limit_s: int, env=None) -> Proc:
        logfile = workdir / f"{name}.out"
        with open(logfile, "ab") as out:
            popen = subprocess.Popen(
                ["timeout", "-k", "5", str(limit_s), *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=ROOT,
            )
        proc = Proc(name, popen, logfile)
        self.running.append(proc)
        return proc

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def stop(self, proc: Proc, *, grace_s: float = 10) -> int | None:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)  # `timeout` passes it to its child
            try:
                proc.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                log(f"{proc.name} (pid {proc.popen.pid}) ignored TERM: KILL")
                for child in self._children(proc.popen.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
                proc.popen.kill()
                proc.popen.wait(5)
        if proc in self.running:
            self.running.remove(proc)
        return proc.popen.returncode

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


def run_command(argv: list[str], *, env, limit_s: int = 120, check: bool = True) -> str:
    done = subprocess.run(
        ["timeout", "-k", "5", str(limit_s), *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if check and done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def wait_until(what: str, predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")


def ports_in_use(http_port: int, sip_port: int) -> list[str]:
    """The ports this run needs that something else holds (a stray server would answer in
    place of ours): TCP http_port, UDP sip_port .. sip_port + 29."""
    busy = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn: TIME_WAIT is fine
        try:
            tcp.bind(("127.0.0.1", http_port))
        except OSError:
            busy.append(f"tcp {http_port}")
    for port in range(sip_port, sip_port + 30):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"udp {port}")
    return busy


def udp_port_bound(port: int) -> bool:
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local = line.split()[1]
            if int(local.rsplit(":", 1)[1], 16) == port:
                return True
    return False


# ---------------------------------------------------------------- the API over HTTP


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def get(self, path: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False


# ---------------------------------------------------------------- the run


@dataclass
class CallRecord:
    call_id: str  # the SIP Call-ID
    caller: str
    phase: str
    outcome: str = "none"  # allowed | refused | unavailable | notfound | none
    reason: str | None = None
    answered_ms: int | None = None
    ended_ms: int | None = None
    cut: bool = False
    destination: str = ""


@dataclass
class Run:
    workdir: Path
    env: dict
    http_port: int
    sip_port: int
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    processes: Processes = field(default_factory=Processes)
    calls: dict[str, CallRecord] = field(default_factory=dict)
    checks: list[tuple[bool, str]] = field(default_factory=list)
    gunicorn: Proc | None = None
    extension: str = ""
    api: Api | None = None
    per_callerid_limit: int = 0
    next_port: int = 1  # sip_port: Kamailio, +1: the callee, then one per sipp caller

    def port(self) -> int:
        self.next_port += 1
        return self.sip_port + self.next_port

    def check(self, ok: bool, text: str) -> bool:
        self.checks.append((ok, text))
        print(("PASS " if ok else "FAIL ") + text, flush=True)
        return ok


def base_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        PIN_PEPPER=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        STATIC_MANIFEST="false",
        TRUSTED_PROXY_COUNT="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="settings.base",
    )
    return env


def manage(run: Run, *args: str, check: bool = True) -> str:
    return run_command([PYTHON, "manage.py", *args], env=run.env, check=check)


def seed(run: Run) -> str:
    """Reseller, admin user and token through the management commands; the extension and
    its CallerIDs through the services. Returns the API token."""
    reseller_name = f"SIP e2e {run.run_id}"
    manage(run, "createreseller", reseller_name, "--may-grant-unlimited")
    admin = f"sip-e2e-{run.run_id}"
    env = dict(run.env, DJANGO_USER_PASSWORD=secrets.token_urlsafe(16))
    run_command([PYTHON, "manage.py", "createuser", admin, "--role", "admin"], env=env)
    out = manage(
        run,
        "create_api_token",
        f"sip-e2e {run.run_id}",
        "--reseller",
        reseller_name,
        "--permission",
        "pbx",
    )
    token = out.strip().splitlines()[-1].strip()
    if not token.startswith("cbm_"):
        raise SystemExit(f"create_api_token printed no token:\n{out}")

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from callback.services.destination_rules import RulesSetup, update_destination_rules
    from callback.services.extensions import ExtensionSetup, create_extension
    from callerids.services.callerids import add_callerids, disable_callerid
    from callerids.services.validation import NewCallerID
    from tenancy.audit import Actor
    from tenancy.models import Reseller
    from tenancy.services.tenancy import create_organization

    actor = Actor(user=get_user_model().objects.get(username=admin), address="127.0.0.1")
    reseller = Reseller.objects.get(name=reseller_name)
    update_destination_rules(
        actor=actor, reseller=reseller, setup=RulesSetup(blocked_prefixes=[BLOCKED[:9]])
    )
    organization = create_organization(actor=actor, reseller=reseller, name="SIP e2e")
    run.extension = f"{int(run.run_id, 16) % 10**6:06d}*{secrets.randbelow(1000):03d}"
    extension = create_extension(
        actor=actor,
        organization=organization,
        setup=ExtensionSetup(
            number=run.extension,
            name="SIP end-to-end",
            **extension_call_limits(),
        ),
    )
    listed = [c for c in CALLERS.values() if c.listed]
    for start in range(0, len(listed), 10):
        batch = listed[start : start + 10]
        added = add_callerids(
            actor=actor,
            extension=extension,
            rows=[
                NewCallerID(number=c.number, credit=c.credit, unlimited=c.credit is None)
                for c in batch
            ],
        )
        for caller, row in zip(batch, added.callerids, strict=True):
            caller.pk = row.pk
    for caller in listed:
        if caller.disabled:
            disable_callerid(actor=actor, callerid=caller.pk)
    extension.refresh_from_db()
    run.per_callerid_limit = extension.max_calls_per_callerid
    if run.per_callerid_limit != PER_CALLERID_LIMIT:
        raise SystemExit(f"the extension's per-CallerID limit is {run.per_callerid_limit}")
    return token


def extension_call_limits() -> dict:
    """The extension's §11 settings under test. Each call holds fee + rate × its time limit,
    so the longest allowed call (60 s: 0.61 held) leaves room for two calls at once from a
    CallerID with 5.00; with the default 3,600 s the first call would hold all of it and
    the second would be refused `no_credit` before the simultaneous-call limit is reached."""
    return {
        "max_call_duration_seconds": MAX_CALL_DURATION_S,
        "max_calls_per_callerid": PER_CALLERID_LIMIT,
    }


def start_gunicorn(run: Run) -> None:
    run.gunicorn = run.processes.start(
        "gunicorn",
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "settings.wsgi",
            "--bind",
            f"127.0.0.1:{run.http_port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--graceful-timeout",
            "5",
            "--no-control-socket",
            "--access-logfile",
            "-",
        ],
        run.workdir,
        limit_s=SERVICE_LIMIT_S,
        env=run.env,
    )
    wait_until("the API's /healthz", run.api.healthy, 60)


def start_kamailio(run: Run, token: str) -> None:
    env = dict(
        run.env,
        CBM_API_URL=f"http://127.0.0.1:{run.http_port}",
        CBM_API_TOKEN=token,
        CBM_LISTEN=f"udp:127.0.0.1:{run.sip_port}",
        CBM_GATEWAY=f"sip:127.0.0.1:{run.sip_port + 1}",
        CBM_RATE_PER_MINUTE=str(RATE),
        CBM_CONNECTION_FEE=str(FEE),
        CBM_CALL_ID_PREFIX=f"e2e{run.run_id}-",
    )
    run_command(["kamailio", "-c", "-f", str(KAMAILIO_CFG)], env=env)  # syntax, variables
    run.processes.start(
        "kamailio",
        [
            "kamailio",
            "-DD",
            "-E",
            "-f",
            str(KAMAILIO_CFG),
            "-Y",
            str(run.workdir),
            "-m",
            "64",
            "-M",
            "8",
        ],
        run.workdir,
        limit_s=SERVICE_LIMIT_S,
        env=env,
    )
    wait_until("Kamailio's SIP socket", lambda: udp_port_bound(run.sip_port), 20)


def start_callee(run: Run) -> Proc:
    port = run.sip_port + 1
    proc = run.processes.start(
        "callee",
        [
            "sipp",
            "-sf",
            str(HERE / "callee.xml"),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-cp",
            str(run.sip_port + 20),
            "-nostdin",
            "-trace_logs",
            "-log_file",
            str(run.workdir / "callee.log"),
        ],
        run.workdir,
        limit_s=SERVICE_LIMIT_S,
    )
    wait_until("the sipp callee", lambda: udp_port_bound(port), 20)
    return proc


def place_calls(
    run: Run,
    phase: str,
    rows: list[tuple[str, str]],
    *,
    scenario: str = "caller.xml",
    rate: int = 5,
    talk_ms: int = TALK_MS,
    limit_s: int = 120,
) -> Proc:
    """Start one sipp caller for `rows` (caller key, destination); returns its process."""
    csv = run.workdir / f"{phase}.csv"
    lines = ["SEQUENTIAL"] + [f"{CALLERS[k].number};{dest};{run.extension};" for k, dest in rows]
    csv.write_text("\n".join(lines) + "\n")
    port = run.port()
    return run.processes.start(
        phase,
        [
            "sipp",
            f"127.0.0.1:{run.sip_port}",
            "-sf",
            str(HERE / scenario),
            "-inf",
            str(csv),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-cp",
            str(port + 20),
            "-m",
            str(len(rows)),
            "-r",
            str(rate),
            "-d",
            str(talk_ms),
            "-nostdin",
            "-timeout",
            f"{limit_s - 10}s",
            "-timeout_error",
            "-trace_logs",
            "-log_file",
            str(run.workdir / f"{phase}.log"),
            "-trace_err",
            "-error_file",
            str(run.workdir / f"{phase}.err"),
        ],
        run.workdir,
        limit_s=limit_s,
    )


def finish(run: Run, proc: Proc, phase: str, *, limit_s: float = 120) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.popen.wait(limit_s)
    rc = run.processes.stop(proc)
    run.check(rc == 0, f"{phase}: sipp caller exited 0 (rc={rc}; {proc.logfile.name})")
    read_caller_log(run, phase)


LOG_LINE = re.compile(r"^(ANSWERED|HUNGUP|CUT|REFUSED|UNAVAILABLE|NOTFOUND|BUSY) (.*)$")


def read_caller_log(run: Run, phase: str) -> None:
    path = run.workdir / f"{phase}.log"
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        match = LOG_LINE.match(line.strip())
        if not match:
            continue
        kind, rest = match.groups()
        parts = rest.split()
        if kind in ("REFUSED", "UNAVAILABLE", "NOTFOUND", "BUSY"):
            reason, caller, call_id, tick = parts[0], parts[1], parts[2], int(parts[3])
        else:
            reason, caller, call_id, tick = None, parts[0], parts[1], int(parts[2])
        record = run.calls.setdefault(call_id, CallRecord(call_id, caller, phase))
        if kind == "ANSWERED":
            record.outcome, record.answered_ms = "allowed", tick
        elif kind in ("HUNGUP", "CUT"):
            record.ended_ms, record.cut = tick, kind == "CUT"
        elif kind == "REFUSED":
            record.outcome, record.reason = "refused", reason
        elif kind == "BUSY":
            record.outcome = "busy"
        elif kind == "UNAVAILABLE":
            record.outcome, record.reason = "unavailable", "503"
        else:
            record.outcome, record.reason = "notfound", "404"


def wait_for_reports(run: Run, timeout_s: float = 30) -> None:
    """Kamailio reports from a queue (every 100 ms, retried while the API is down): wait
    until every call it connected so far is recorded, or timeout_s (the checks then say
    which are missing)."""
    from credit.models import Call

    prefix = f"e2e{run.run_id}-"
    want = {prefix + r.call_id for r in run.calls.values() if r.outcome in ("allowed", "busy")}

    def all_recorded() -> bool:
        got = set(
            Call.objects.filter(extension__number=run.extension).values_list("call_id", flat=True)
        )
        return want <= got

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not all_recorded():
        time.sleep(0.2)


def open_hold_of(run: Run, caller: Caller) -> bool:
    from credit.models import CallHold, HoldStatus

    return CallHold.objects.filter(callerid_id=caller.pk, status=HoldStatus.OPEN).exists()


def phase_calls(run: Run, phase: str) -> list[CallRecord]:
    return [c for c in run.calls.values() if c.phase == phase]


def key_of(record: CallRecord) -> str:
    return BY_NUMBER[record.caller].key


# ---------------------------------------------------------------- checks


def ceil4(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


def check_admission(run: Run, mixed: list[tuple[str, str]]) -> None:
    records = phase_calls(run, "mixed")
    run.check(
        len(records) == len(mixed), f"mixed: {len(records)}/{len(mixed)} calls logged by sipp"
    )
    # sipp takes the injection rows in order, so call number n is row n.
    by_number = sorted(records, key=lambda r: int(r.call_id.split("-", 1)[0]))
    wrong = []
    for record, (key, destination) in zip(by_number, mixed, strict=False):
        record.destination = destination
        want = expected_outcome(key, destination)
        got = (record.outcome, record.reason)
        if BY_NUMBER[record.caller].key != key or got != want:
            wrong.append(f"{record.call_id} {key}->{destination}: want {want}, got {got}")
    run.check(
        not wrong,
        "mixed: every call allowed or refused for the right reason"
        + ("\n    " + "\n    ".join(wrong) if wrong else ""),
    )

    burst = phase_calls(run, "burst")
    outcomes = Counter((r.outcome, r.reason) for r in burst)
    run.check(
        outcomes
        == Counter(
            {
                ("allowed", None): run.per_callerid_limit,
                ("refused", "too_many_calls"): BURST_CALLS - run.per_callerid_limit,
            }
        ),
        f"{BURST_CALLS} calls at once from one CallerID (limit {run.per_callerid_limit}): "
        f"{dict(outcomes)}",
    )
    for record in burst:
        record.destination = DESTINATION

    limited = phase_calls(run, "limited")
    for record in limited:
        record.destination = DESTINATION
    cuts = []
    bad = []
    for record in limited:
        caller = BY_NUMBER[record.caller]
        if record.outcome != "allowed" or not record.cut or record.answered_ms is None:
            bad.append(
                f"{caller.key} {record.call_id}: {record.outcome} {record.reason} cut={record.cut}"
            )
            continue
        lasted = (record.ended_ms - record.answered_ms) / 1000
        cuts.append(f"{caller.key} limit {caller.limit_s}s cut at {lasted:.2f}s")
        if abs(lasted - caller.limit_s) > CUT_TOLERANCE_S:
            bad.append(f"{caller.key}: limit {caller.limit_s}s, cut at {lasted:.2f}s")
    run.check(
        len(limited) == 4 and not bad,
        f"credit-limited calls cut by Kamailio within ±{CUT_TOLERANCE_S:.0f} s: "
        + "; ".join(cuts)
        + ("; " + "; ".join(bad) if bad else ""),
    )


def check_callee(run: Run) -> None:
    seen: dict[str, set[str]] = {"INVITE": set(), "BYE": set(), "BUSY": set()}
    path = run.workdir / "callee.log"
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "CALLEE" and parts[1] in seen:
            seen[parts[1]].add(parts[2])
    answered = {r.call_id for r in run.calls.values() if r.outcome == "allowed"}
    busy = {r.call_id for r in run.calls.values() if r.outcome == "busy"}
    run.check(
        seen["INVITE"] == answered | busy and seen["BUSY"] == busy,
        f"the callee got exactly the allowed calls ({len(seen['INVITE'])}, "
        f"{len(seen['BUSY'])} of them answered busy)",
    )
    run.check(
        seen["BYE"] == answered,
        f"the callee got a BYE for every answered call ({len(seen['BYE'])}/{len(answered)})",
    )


def check_database(run: Run) -> Decimal:
    from django.db.models import Sum

    from credit.models import Call, LedgerEntry, LedgerKind

    prefix = f"e2e{run.run_id}-"
    allowed = {
        prefix + r.call_id: r for r in run.calls.values() if r.outcome in ("allowed", "busy")
    }
    refused = {prefix + r.call_id for r in run.calls.values() if prefix + r.call_id not in allowed}
    calls = list(Call.objects.filter(extension__number=run.extension).select_related("callerid"))
    ids = [c.call_id for c in calls]
    run.check(
        sorted(ids) == sorted(allowed),
        f"every allowed call recorded once ({len(ids)} recorded, {len(allowed)} allowed), "
        "no refused call recorded",
    )
    run.check(not refused & set(ids), "no refused call in the calls table")

    wrong = []
    for call in calls:
        record = allowed.get(call.call_id)
        expected = ceil4(FEE + RATE * call.duration_seconds / 60)
        if record is not None and record.outcome == "busy":
            # Never connected: Kamailio reports 0 s with cost 0, so no connection fee.
            expected = Decimal("0.0000")
            if call.duration_seconds != 0:
                wrong.append(f"{call.call_id}: busy call recorded {call.duration_seconds}s")
        caller = BY_NUMBER.get(call.caller_id)
        if call.cost != expected:
            wrong.append(
                f"{call.call_id}: cost {call.cost}, want {expected} for {call.duration_seconds}s"
            )
        if call.charged + call.shortfall != call.cost or call.shortfall != 0:
            wrong.append(f"{call.call_id}: charged {call.charged} + shortfall {call.shortfall}")
        if caller is None or call.callerid_id != caller.pk or not call.metered:
            wrong.append(f"{call.call_id}: charged to CallerID {call.callerid_id}")
        if record is not None and record.answered_ms is not None and record.ended_ms is not None:
            talked = (record.ended_ms - record.answered_ms) / 1000
            if not (talked - 1.5 <= call.duration_seconds <= talked + 1.5):
                wrong.append(
                    f"{call.call_id}: {call.duration_seconds}s recorded, {talked:.2f}s seen"
                )
        if (
            caller is not None
            and caller.limit_s is not None
            and call.duration_seconds > caller.limit_s
        ):
            wrong.append(
                f"{call.call_id}: {call.duration_seconds}s beyond its {caller.limit_s}s limit"
            )
    run.check(
        not wrong,
        "every call rated as §11 says: fee + rate × duration, rounded up, fully charged"
        + ("\n    " + "\n    ".join(wrong) if wrong else ""),
    )

    ledger_calls = LedgerEntry.objects.filter(kind=LedgerKind.CALL, call__in=calls)
    run.check(
        ledger_calls.count() == len(calls), f"one ledger row per call ({ledger_calls.count()})"
    )

    problems = []
    for caller in CALLERS.values():
        if not caller.listed:
            continue
        charged = Call.objects.filter(callerid_id=caller.pk).aggregate(s=Sum("charged"))[
            "s"
        ] or Decimal(0)
        status, body = run.api.get(f"/api/v1/callerids/{caller.pk}/credit")
        if status != 200:
            problems.append(f"{caller.key}: credit API answered {status} {body}")
            continue
        held = body.get("held")
        if held not in (None, "0.0000"):
            problems.append(f"{caller.key}: {held} still held")
        if caller.credit is None:
            if not body["unlimited"] or body["available"] is not None:
                problems.append(f"{caller.key}: no longer Unlimited: {body}")
            continue
        want = caller.credit - charged
        if Decimal(body["available"]) != want or want < 0:
            problems.append(
                f"{caller.key}: available {body['available']}, want {caller.credit} - {charged}"
            )
    run.check(
        not problems,
        "through the API: each balance = initial credit − charges, nothing held, "
        "none below 0" + ("\n    " + "\n    ".join(problems) if problems else ""),
    )
    problems = open_holds(run, set(allowed) | refused)
    run.check(
        not problems,
        "in the database: no hold left open"
        + ("\n    " + "\n    ".join(problems) if problems else ""),
    )

    out = run_command([PYTHON, "manage.py", "check_ledger"], env=run.env, check=False)
    run.check(
        out.strip().startswith("OK"),
        f"check_ledger: {out.strip().splitlines()[-1] if out.strip() else 'no output'}",
    )
    return sum((c.charged for c in calls), Decimal(0))


def open_holds(run: Run, call_ids: set[str]) -> list[str]:
    """Holds of this run (its extension, or one of its call ids) that are still open, and
    any hold made for a call that was refused (SPEC §11: a denied start holds nothing)."""
    from django.db.models import Q

    from credit.models import CallHold, HoldStatus

    holds = CallHold.objects.filter(Q(extension__number=run.extension) | Q(call_id__in=call_ids))
    problems = [
        f"{hold.call_id}: {hold.held} held, still open"
        for hold in holds.filter(status=HoldStatus.OPEN)
    ]
    refused = {f"e2e{run.run_id}-{r.call_id}" for r in run.calls.values() if r.outcome == "refused"}
    problems += [
        f"{hold.call_id}: a hold for a refused call" for hold in holds if hold.call_id in refused
    ]
    settled = holds.filter(status=HoldStatus.SETTLED).count()
    if not problems:
        print(f"     ({holds.count()} holds made by this run, {settled} settled by the reports)")
    return problems


# ---------------------------------------------------------------- main


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        print("sip-e2e needs DATABASE_URL=postgres://... (the app runs on PostgreSQL here)")
        return 2
    for tool in ("kamailio", "sipp", "timeout"):
        if shutil.which(tool) is None:
            print(
                f"sip-e2e needs `{tool}` (apt-get install kamailio kamailio-utils-modules "
                "kamailio-extra-modules sip-tester)"
            )
            return 2
    workdir = Path(os.environ.get("SIP_E2E_WORKDIR") or tempfile.mkdtemp(prefix="sip-e2e-"))
    workdir.mkdir(parents=True, exist_ok=True)
    http_port = int(os.environ.get("SIP_E2E_HTTP_PORT", "8230"))
    sip_port = int(os.environ.get("SIP_E2E_SIP_PORT", "5070"))
    env = base_env(database_url)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DEBUG",
                "SECRET_KEY",
                "PIN_PEPPER",
                "ALLOWED_HOSTS",
                "DJANGO_SETTINGS_MODULE",
                "STATIC_MANIFEST",
            )
        }
    )
    sys.path.insert(0, str(ROOT))
    busy = ports_in_use(http_port, sip_port)
    if busy:
        print(
            f"sip-e2e: ports in use: {', '.join(busy)} (set SIP_E2E_HTTP_PORT / SIP_E2E_SIP_PORT)"
        )
        return 2
    run = Run(workdir=workdir, env=env, http_port=http_port, sip_port=sip_port)
    log(f"run {run.run_id}; logs in {workdir}")
    started = time.monotonic()

    def stop_on_signal(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    try:
        return execute(run, started)
    finally:
        run.processes.stop_all()
        log(f"stopped every process; logs kept in {workdir}")


def execute(run: Run, started: float) -> int:
    manage(run, "migrate", "--noinput")
    token = seed(run)
    run.api = Api(f"http://127.0.0.1:{run.http_port}", token)
    log(f"seeded extension {run.extension}: {sum(c.listed for c in CALLERS.values())} CallerIDs")
    start_gunicorn(run)
    start_kamailio(run, token)
    start_callee(run)

    mixed = mixed_rows()
    log(f"mixed calls: {len(mixed)}")
    finish(run, place_calls(run, "mixed", mixed, rate=MIXED_RATE), "mixed")

    log("credit-limited calls and a burst from one CallerID, at the same time")
    limited = place_calls(
        run,
        "limited",
        [(k, DESTINATION) for k in ("L1", "L2", "L3", "L4")],
        scenario="caller_wait.xml",
        rate=10,
        limit_s=60,
    )
    burst = place_calls(
        run, "burst", [("B", DESTINATION)] * BURST_CALLS, rate=50, talk_ms=BURST_TALK_MS, limit_s=60
    )
    finish(run, burst, "burst", limit_s=60)
    finish(run, limited, "limited", limit_s=60)

    wait_for_reports(run)
    log("a call in progress, then the API (gunicorn) stops while Kamailio runs")
    inflight = place_calls(
        run, "inflight", [("R05", DESTINATION)], talk_ms=INFLIGHT_TALK_MS, limit_s=60
    )
    wait_until("the in-flight call's hold", lambda: open_hold_of(run, CALLERS["R05"]), 30)
    time.sleep(0.5)  # its 200 OK
    run.processes.stop(run.gunicorn)
    run.check(not run.api.healthy(), "the API is down")
    finish(
        run,
        place_calls(
            run, "outage", [("R02", DESTINATION), ("R03", DESTINATION), ("U", DESTINATION)], rate=10
        ),
        "outage",
    )
    outage = phase_calls(run, "outage")
    run.check(
        len(outage) == OUTAGE_CALLS and all(r.outcome == "unavailable" for r in outage),
        f"API stopped: {sum(r.outcome == 'unavailable' for r in outage)}/{OUTAGE_CALLS} new calls "
        "refused by Kamailio with 503 Service Unavailable (api_unreachable)",
    )
    finish(run, inflight, "inflight", limit_s=60)  # it hangs up while the API is down
    inflight_record = phase_calls(run, "inflight")
    deferred = [r for r in inflight_record if r.outcome == "allowed" and r.ended_ms is not None]
    kamailio_log = (run.workdir / "kamailio.out").read_text(errors="replace")
    run.check(
        len(deferred) == 1
        and f"CBM REPORT DEFERRED e2e{run.run_id}-{deferred[0].call_id}" in kamailio_log,
        "a call that ended while the API was down: its report kept by Kamailio for later",
    )
    log("starting the API again")
    start_gunicorn(run)
    finish(
        run,
        place_calls(
            run,
            "recovered",
            [("R02", DESTINATION), ("R03", DESTINATION), ("U", DESTINATION)],
            rate=10,
        ),
        "recovered",
    )
    recovered = phase_calls(run, "recovered")
    for record in outage + recovered + inflight_record:
        record.destination = DESTINATION
    run.check(
        len(recovered) == OUTAGE_CALLS and all(r.outcome == "allowed" for r in recovered),
        f"API started again: {sum(r.outcome == 'allowed' for r in recovered)}/{OUTAGE_CALLS} "
        "calls connected",
    )
    wait_for_reports(run)

    check_admission(run, mixed)
    check_callee(run)
    charged_total = check_database(run)

    records = list(run.calls.values())
    allowed = sum(r.outcome in ("allowed", "busy") for r in records)
    busy = sum(r.outcome == "busy" for r in records)
    refused = sum(r.outcome == "refused" for r in records)
    unavailable = sum(r.outcome == "unavailable" for r in records)
    cut = sum(r.cut for r in records)
    failed = [text for ok, text in run.checks if not ok]
    print(
        f"SIP e2e summary: calls placed {len(records)}, allowed {allowed} ({busy} answered "
        f"busy by the callee), refused {refused} "
        f"(+{unavailable} with 503 while the API was down), cut {cut}, "
        f"charged total {charged_total} — {len(run.checks) - len(failed)}/{len(run.checks)} checks "
        f"passed in {time.monotonic() - started:.0f} s" + ("" if not failed else " — FAILED"),
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
