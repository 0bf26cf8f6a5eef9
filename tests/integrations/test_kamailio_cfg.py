"""The Kamailio configuration (integrations/kamailio/): Kamailio accepts it, it holds no
secret, and it refuses to start without its API settings. The calls themselves are proved
by `make sip-e2e`; these run wherever kamailio is installed (skipped, with the reason,
elsewhere)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CFG = Path(__file__).resolve().parents[2] / "integrations" / "kamailio" / "kamailio.cfg"
SETTINGS = {
    "CBM_API_URL": "http://127.0.0.1:8000",
    "CBM_API_TOKEN": "cbm_abcdefgh_not-a-real-secret",
    "CBM_LISTEN": "udp:127.0.0.1:5099",
    "CBM_GATEWAY": "sip:127.0.0.1:5098",
    "CBM_RATE_PER_MINUTE": "0.0500",
}
needs_kamailio = pytest.mark.skipif(
    shutil.which("kamailio") is None,
    reason="needs kamailio (apt-get install kamailio kamailio-utils-modules "
    "kamailio-extra-modules)",
)


def check_config(settings: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBM_")}
    env.update(settings)
    return subprocess.run(
        ["kamailio", "-c", "-f", str(CFG)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_kamailio
def test_kamailio_accepts_the_configuration():
    done = check_config(SETTINGS)
    assert done.returncode == 0, done.stderr[-2000:]


@needs_kamailio
@pytest.mark.parametrize("missing", sorted(SETTINGS))
def test_kamailio_refuses_to_start_without_a_required_setting(missing):
    settings = {k: v for k, v in SETTINGS.items() if k != missing}
    done = check_config(settings)
    assert done.returncode != 0
    assert f"env variable not defined [{missing}]" in done.stderr


def test_the_configuration_holds_no_token_and_no_address_of_ours():
    text = CFG.read_text()
    assert not re.search(r"cbm_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}", text)
    assert 'Bearer " + CBM_API_TOKEN' in text  # the token comes from the environment
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"https?://", code)  # the API's address too
