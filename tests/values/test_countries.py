"""values.countries is a copy of libphonenumber's country names (importing its geocoder in
the product would load ~125 MB of location data into every web worker)."""

import json
import subprocess
import sys

from phonenumbers import SUPPORTED_REGIONS, geocoder

from values.countries import COUNTRY_NAMES
from values.phone import COUNTRY_CODES


def test_the_table_is_libphonenumbers_names_for_every_country_it_knows():
    expected = {
        code: geocoder._region_display_name(code, "en") or code for code in SUPPORTED_REGIONS
    }
    if expected != COUNTRY_NAMES:
        table = "".join(
            f"    {json.dumps(code)}: {json.dumps(name, ensure_ascii=False)},\n"
            for code, name in sorted(expected.items())
        )
        raise AssertionError(f"copy this into values/countries.py:\n{table}")
    assert set(COUNTRY_NAMES) == set(COUNTRY_CODES)


def test_the_web_app_does_not_load_the_geocoder():
    code = (
        "import os, sys, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings.test');"
        "django.setup();"
        "import settings.urls;"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "print('phonenumbers.geodata' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"
