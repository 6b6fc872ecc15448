"""Django's SQLite backend, reading the real bound-parameter limit from SQLite.

Django 5.2 assumes 999 parameters per statement (the pre-3.32 default), so a bulk insert of a
few hundred rows is split into many INSERTs. Current SQLite allows 32766; reading the limit
from the connection (what Django 6.0 does) keeps a bulk create at one statement, as on
PostgreSQL.
"""

import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base, features
from django.utils.functional import cached_property


class DatabaseFeatures(features.DatabaseFeatures):
    """SQLite features with `max_query_params` from the live connection."""

    @cached_property
    def max_query_params(self) -> int:  # type: ignore[override]
        """SQLITE_LIMIT_VARIABLE_NUMBER of this connection."""
        self.connection.ensure_connection()
        raw: Any = self.connection.connection
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


class DatabaseWrapper(base.DatabaseWrapper):
    """The SQLite wrapper with the features above."""

    features_class = DatabaseFeatures
