"""On PostgreSQL: ledger transactions and entries are append-only, and every transaction's
entries sum to zero when it commits."""

from typing import Any

from django.db import migrations

# Raw SQL on purpose: the ORM cannot create triggers. No parameters are involved.
CREATE_TRIGGERS = """
CREATE OR REPLACE FUNCTION wallet_ledger_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS wallet_ledgertransaction_append_only ON wallet_ledgertransaction;
CREATE TRIGGER wallet_ledgertransaction_append_only
    BEFORE UPDATE OR DELETE ON wallet_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_reject_change();
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
CREATE TRIGGER wallet_entry_append_only
    BEFORE UPDATE OR DELETE ON wallet_entry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_reject_change();

CREATE OR REPLACE FUNCTION wallet_entry_check_balanced() RETURNS trigger AS $$
DECLARE
    total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total
        FROM wallet_entry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: entries sum to %',
            NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS wallet_entry_balanced ON wallet_entry;
CREATE CONSTRAINT TRIGGER wallet_entry_balanced
    AFTER INSERT ON wallet_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet_entry_check_balanced();
"""
DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS wallet_entry_balanced ON wallet_entry;
DROP FUNCTION IF EXISTS wallet_entry_check_balanced();
DROP TRIGGER IF EXISTS wallet_entry_append_only ON wallet_entry;
DROP TRIGGER IF EXISTS wallet_ledgertransaction_append_only ON wallet_ledgertransaction;
DROP FUNCTION IF EXISTS wallet_ledger_reject_change();
"""


def _run_on_postgres(sql: str) -> Any:
    """A RunPython step that executes `sql` on PostgreSQL and does nothing elsewhere."""

    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the % signs are not placeholders

    return run


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [
        migrations.RunPython(_run_on_postgres(CREATE_TRIGGERS), _run_on_postgres(DROP_TRIGGERS)),
    ]
