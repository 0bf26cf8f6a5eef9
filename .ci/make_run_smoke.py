"""`PORT=… make run` in this clone: the login page answers, a printed login works, and the
README's first API example, run with the printed token, answers "decision": "callback".

Standard library only; every step is bounded, and the server's process group is stopped.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"make run: {url} did not answer within {seconds:.0f} s")


def log_in(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(base + "login/", data=body, headers={"Referer": base})
    with opener.open(request, timeout=10) as answer:
        landed = answer.geturl()
        text = answer.read().decode()
    if "/login/" in landed or "Log out" not in text:
        raise SystemExit(f"make run: the printed login {username!r} did not log in")
    return landed


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": "sqlite:///var/smoke.sqlite3"}
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "smoke.sqlite3").unlink(missing_ok=True)
    server = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("make run ended early:\n" + "".join(printed))
            printed.append(line)
            if "Press Ctrl+C to stop." in line:
                break
        else:
            raise SystemExit("make run printed no banner within 180 s:\n" + "".join(printed))
        output = "".join(printed)
        print(output, end="")
        wait_for(base + "login/", 60)
        password = re.search(r'Demo logins \(password "([^"]+)"\)', output).group(1)
        usernames = re.findall(r"^  (\S+)\s+(?:admin|reseller|staff)\s", output, flags=re.M)
        for username in usernames:
            log_in(base, username, password)
        token = re.search(r"export TOKEN=(\S+)", output).group(1)
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
        example = next(b for b in blocks if b.lstrip().startswith("curl"))
        example = example.replace("http://127.0.0.1:8000/", base)
        done = subprocess.run(
            ["bash", "-c", example],
            env={**os.environ, "TOKEN": token},
            capture_output=True,
            text=True,
            timeout=30,
        )
        if json.loads(done.stdout or "{}").get("decision") != "callback":
            raise SystemExit(f"the README example answered {done.stdout!r} {done.stderr!r}")
        print(
            f"make run: login page served, {len(usernames)} printed logins work, "
            f"the README example answers {done.stdout.strip()}"
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        (ROOT / "var" / "smoke.sqlite3").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
