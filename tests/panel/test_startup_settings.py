"""With DEBUG off the app refuses to start on the `.env.example` placeholders of SECRET_KEY and
PIN_PEPPER, or on a PIN_PEPPER shorter than 32 characters (issue 16 item 14).

Each case starts `manage.py check` as an operator would start the app, in a fresh process
with only the given environment.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50
GOOD_PEPPER = "p" * 32


def example_value(name: str) -> str:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not in .env.example")


def start(**env) -> subprocess.CompletedProcess:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": "sqlite:///:memory:",
        "DEBUG": "false",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_python(code: str, **env) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() in a fresh process (DEBUG on unless env says)."""
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": "sqlite:///:memory:",
        "DEBUG": "true",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_it_starts_with_real_secrets():
    result = start(SECRET_KEY=GOOD_KEY, PIN_PEPPER=GOOD_PEPPER)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SECRET_KEY": "example:SECRET_KEY", "PIN_PEPPER": GOOD_PEPPER},
            "SECRET_KEY is the placeholder of .env.example",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, "PIN_PEPPER": "example:PIN_PEPPER"},
            "PIN_PEPPER is the placeholder of .env.example",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, "PIN_PEPPER": "p" * 31},
            "PIN_PEPPER must be at least 32 characters long (it has 31)",
        ),
        ({"PIN_PEPPER": GOOD_PEPPER}, "SECRET_KEY is required when DEBUG is off"),
        ({"SECRET_KEY": GOOD_KEY}, "PIN_PEPPER is required when DEBUG is off"),
    ],
)
def test_it_refuses_to_start_with_placeholders_or_a_short_pepper(env, message):
    env = {
        name: example_value(value.split(":", 1)[1]) if value.startswith("example:") else value
        for name, value in env.items()
    }

    result = start(**env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_debug_on_still_starts_without_secrets():
    assert start(DEBUG="true").returncode == 0
