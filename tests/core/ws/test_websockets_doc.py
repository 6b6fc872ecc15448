"""docs/websockets.md is what the declarations generate (`manage.py websockets_doc`), and it
names every event, socket and close code."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.platform.ws.consumers import CLOSE_CODES
from apps.core.platform.ws.docs import websockets_document
from apps.core.platform.ws.events import declared_endpoints, declared_events

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "websockets.md"


def test_the_committed_document_is_what_the_declarations_generate() -> None:
    out = StringIO()
    call_command("websockets_doc", "--check", stdout=out)  # CommandError when stale
    assert "is up to date" in out.getvalue()
    assert DOC.read_text(encoding="utf-8") == websockets_document()


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    path = tmp_path / "websockets.md"
    path.write_text(websockets_document().replace("order.created", "order.made"))
    with pytest.raises(CommandError, match=r"run `python manage\.py websockets_doc`"):
        call_command("websockets_doc", "--check", "--path", str(path))
    call_command("websockets_doc", "--path", str(path), stdout=StringIO())
    call_command("websockets_doc", "--check", "--path", str(path), stdout=StringIO())
    assert path.read_text(encoding="utf-8") == websockets_document()


def test_the_document_names_every_event_socket_frame_and_close_code() -> None:
    document = websockets_document()
    names = {event.name for event in declared_events()}
    assert names >= {
        "order.created",
        "order.status_changed",
        "export.progress",
        "wallet.updated",
        "chat.unread",
        "product.changed",
        "profile.updated",
        "roles.changed",
    }
    for name in names:
        assert f"#### `{name}`" in document
    for endpoint in declared_endpoints():
        assert f"## `{endpoint.path}`" in document
        for frame in (*endpoint.client_frames, *endpoint.server_frames):
            assert f"#### `{frame.type}`" in document
    for code in CLOSE_CODES:
        assert f"| {code} |" in document
