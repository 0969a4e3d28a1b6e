"""ExactJSONField: JSON kept as it was written, on every database.

Django's ``JSONField`` is ``jsonb`` on PostgreSQL, which stores numbers as ``numeric``
and objects with its own key order: ``1e16`` comes back as the int
``10000000000000000``, ``-0.0`` as ``0.0``, and the hash recorded for the config no
longer matches what is read. A history must read back exactly what was hashed, so on
PostgreSQL this field is the ``json`` type, which keeps the text as written (and checks
that it is JSON). MariaDB/MySQL and SQLite keep JSON text already: there the field is
Django's own.

What ``json`` gives up is indexing and containment queries (``@>``) into the config,
which the history never needs: it finds versions by (config, number).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class ExactJSONField(models.JSONField):
    """A JSONField whose values read back exactly as written (PostgreSQL: ``json``)."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if connection.vendor == "postgresql" and not hasattr(value, "as_sql"):
            if value is None:
                return None
            # Plain text: psycopg sends it untyped and the server reads it as json.
            # Django's own adapter would send jsonb, which rounds numbers first.
            return json.dumps(value, cls=self.encoder)
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        # psycopg parses ``json`` columns itself (with json.loads: exact).
        if value is None or isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        if isinstance(value, bytes | bytearray):
            return super().from_db_value(value.decode("utf-8"), expression, connection)
        return value
