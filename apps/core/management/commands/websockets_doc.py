"""`manage.py websockets_doc`: write docs/websockets.md from the WebSocket declarations;
`--check` only compares (exit status 1 when the file is stale, for CI)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.platform.ws.docs import COMMAND, websockets_document

DEFAULT_PATH = Path("docs") / "websockets.md"
STALE_MESSAGE = "{path} is not what the declarations generate; run `{command}` and commit it."


class Command(BaseCommand):
    """Render the WebSocket document; write it, or check the written one."""

    help = "Write docs/websockets.md from the WebSocket event and frame declarations."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        """`--check` and `--path`."""
        parser.add_argument(
            "--check", action="store_true", help="Compare only; fail when the file differs."
        )
        parser.add_argument(
            "--path",
            default=str(Path(settings.BASE_DIR) / DEFAULT_PATH),
            help="Where the document lives (default: docs/websockets.md).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Write or check."""
        path = Path(options["path"])
        document = websockets_document()
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current != document:
                raise CommandError(STALE_MESSAGE.format(path=path, command=COMMAND))
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(document, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
