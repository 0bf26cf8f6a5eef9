"""Tokens made before permissions existed keep working as PBX tokens (SPEC §13)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("callback", "0002_call_admission")]
AFTER = [("callback", "0003_token_permissions_idempotency")]


def test_existing_tokens_get_pbx_only():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("callback", "ApiToken")
    old.objects.create(name="old pbx", prefix="0123abcd", secret_sha256="0" * 64)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("callback", "ApiToken")
    token = new.objects.get(prefix="0123abcd")
    assert (token.may_pbx, token.may_provision) == (True, False)
    # Back to the newest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
