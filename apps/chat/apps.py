"""App config of the chat app."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Direct and group rooms, messages with attachments, live delivery over WebSockets."""

    name = "apps.chat"
    label = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        """Connect the receivers (an attachment stored on a message is broadcast)."""
        from apps.chat import signals  # noqa: F401 - registers on import
