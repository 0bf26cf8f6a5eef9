"""The README's first API example works as printed against the data `make run` makes."""

import json
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from demo.tenancy import API_EXAMPLE

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8000/"


def _first_curl_block() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return next(block.strip() for block in blocks if block.lstrip().startswith("curl"))


def test_the_readme_example_is_the_one_make_run_prints():
    assert _first_curl_block() == API_EXAMPLE.format(url=README_URL)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README example runs curl")
@pytest.mark.django_db(transaction=True)
def test_the_readme_example_answers_callback_with_the_token_make_run_prints(live_server):
    call_command("seed_demo", "--if-empty", "--force", verbosity=0)
    banner = StringIO()
    call_command("demo_banner", "--force", url=live_server.url, stdout=banner)
    token = re.search(r"export TOKEN=(\S+)", banner.getvalue()).group(1)
    command = _first_curl_block().replace(README_URL, live_server.url + "/")

    done = subprocess.run(
        ["bash", "-c", command],
        env={"TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    answer = json.loads(done.stdout)
    assert answer["decision"] == "callback", answer
    assert answer["callback_number"] == "+40720000101"
    assert answer["pin_required"] is True


@pytest.mark.django_db
def test_every_start_prints_a_new_token_and_revokes_the_one_before():
    from tenancy.models import ApiToken

    call_command("seed_demo", "--if-empty", "--force", verbosity=0)
    first, second = StringIO(), StringIO()
    call_command("demo_banner", "--force", stdout=first)
    call_command("demo_banner", "--force", stdout=second)

    tokens = [re.search(r"export TOKEN=(\S+)", out.getvalue()).group(1) for out in (first, second)]
    assert tokens[0] != tokens[1]
    active = ApiToken.objects.filter(name="Demo PBX", revoked_at__isnull=True)
    assert [t.prefix for t in active] == [tokens[1].split("_")[1]]
    assert "admin" in second.getvalue() and "demo-password-123" in second.getvalue()
