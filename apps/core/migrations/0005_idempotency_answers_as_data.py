"""Stored idempotent answers as data: the envelope is now built at render time.

Records written before hold the whole envelope; this rewrites them to
`{status, data, message, pagination}` so a retry within their 24 hours replays the same
answer (errors at 400 and up are the data of an error answer). Reversible.
"""

from typing import Any

from django.db import migrations

FIRST_ERROR_STATUS = 400


def envelopes_to_data(apps: Any, schema_editor: Any) -> None:
    """Every stored envelope becomes the answer's content."""
    record_model = apps.get_model("core", "IdempotencyRecord")
    for record in record_model.objects.all().iterator():
        body = record.response_body
        if not (isinstance(body, dict) and {"success", "meta"} <= body.keys()):
            continue
        error = record.response_status >= FIRST_ERROR_STATUS
        record.response_body = {
            "status": record.response_status,
            "data": body.get("errors") if error else body.get("data"),
            "message": body.get("message"),
            "pagination": (body.get("meta") or {}).get("pagination"),
        }
        record.save(update_fields=["response_body"])


def data_to_envelopes(apps: Any, schema_editor: Any) -> None:
    """Back to the first edition's stored envelopes (trace id left empty)."""
    record_model = apps.get_model("core", "IdempotencyRecord")
    for record in record_model.objects.all().iterator():
        body = record.response_body
        if not (isinstance(body, dict) and "status" in body and "success" not in body):
            continue
        error = record.response_status >= FIRST_ERROR_STATUS
        record.response_body = {
            "success": not error,
            "status": record.response_status,
            "message": body.get("message"),
            "data": None if error else body.get("data"),
            "errors": body.get("data") if error else None,
            "meta": {"trace_id": "", "pagination": body.get("pagination")},
        }
        record.save(update_fields=["response_body"])


class Migration(migrations.Migration):
    dependencies = [("core", "0004_outboxmessage")]

    operations = [migrations.RunPython(envelopes_to_data, data_to_envelopes)]
