"""On PostgreSQL, a trigger rejects UPDATE and DELETE on the audit log table."""

from typing import Any

from django.db import migrations

# Raw SQL on purpose: the ORM cannot create triggers. No parameters are involved.
CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION core_auditlog_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'core_auditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditlog_append_only ON core_auditlog;
CREATE TRIGGER core_auditlog_append_only
    BEFORE UPDATE OR DELETE ON core_auditlog
    FOR EACH ROW EXECUTE FUNCTION core_auditlog_reject_change();
"""
DROP_TRIGGER = """
DROP TRIGGER IF EXISTS core_auditlog_append_only ON core_auditlog;
DROP FUNCTION IF EXISTS core_auditlog_reject_change();
"""


def _run_on_postgres(sql: str) -> Any:
    """A RunPython step that executes `sql` on PostgreSQL and does nothing elsewhere."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the % signs are not placeholders

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(_run_on_postgres(CREATE_TRIGGER), _run_on_postgres(DROP_TRIGGER)),
    ]
