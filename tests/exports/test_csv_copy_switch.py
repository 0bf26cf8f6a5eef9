"""When the CSV export lets PostgreSQL format the rows: on PostgreSQL, unless switched off."""

import pytest

from exports.renderers.csv_copy import copy_enabled


def test_never_on_sqlite(settings):
    settings.IS_POSTGRES = False
    settings.EXPORT_CSV_COPY = True

    assert not copy_enabled()


@pytest.mark.parametrize(("setting", "enabled"), [(True, True), (False, False)])
def test_the_setting_decides_on_postgresql(settings, setting, enabled):
    settings.IS_POSTGRES = True
    settings.EXPORT_CSV_COPY = setting

    assert copy_enabled() is enabled


@pytest.mark.parametrize(
    ("env", "enabled"),
    [(None, True), ("1", True), ("on", True), ("0", False), ("false", False), ("OFF", False)],
)
def test_the_environment_sets_the_setting(monkeypatch, env, enabled):
    # settings/base.py reads EXPORT_CSV_COPY once; copy_enabled() reads only the setting.
    from settings.env import env_bool

    if env is None:
        monkeypatch.delenv("EXPORT_CSV_COPY", raising=False)
    else:
        monkeypatch.setenv("EXPORT_CSV_COPY", env)

    assert env_bool("EXPORT_CSV_COPY", True) is enabled


@pytest.mark.django_db
def test_never_inside_a_transaction_whose_writes_another_connection_would_not_see(settings):
    settings.IS_POSTGRES = True
    settings.EXPORT_CSV_COPY = True

    assert not copy_enabled()  # a django_db test runs inside a transaction
