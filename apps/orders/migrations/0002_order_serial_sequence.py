"""The PostgreSQL sequence order serials come from (SQLite takes the next one in the
transaction that already holds its single write lock; see orders.services)."""

from typing import Any

from django.db import migrations

SEQUENCE = "orders_order_serial_seq"


def sequence_create(apps: Any, schema_editor: Any) -> None:
    """CREATE SEQUENCE on PostgreSQL; nothing elsewhere."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START 1")


def sequence_drop(apps: Any, schema_editor: Any) -> None:
    """DROP SEQUENCE on PostgreSQL; nothing elsewhere."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(sequence_create, sequence_drop)]
