"""Table names for raw SQL, taken from the models: a moved or renamed model never leaves a
query pointing at a table that no longer exists."""

from __future__ import annotations

from django.db import connection, models


def table(model: type[models.Model]) -> str:
    """The model's table name, quoted for the database in use."""
    return connection.ops.quote_name(model._meta.db_table)
