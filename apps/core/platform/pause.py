"""A pause per process: after a dependency failed, stop calling it for a few seconds."""

import time
from collections.abc import Callable


class Pause:
    """Open for `seconds()` after `start()` (read when started, so settings changes apply);
    `active()` while open. One instance per dependency and process."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        """`seconds`: how long a pause lasts."""
        self.seconds = seconds
        self.until = 0.0

    def active(self) -> bool:
        """True while paused."""
        return time.monotonic() < self.until

    def start(self) -> None:
        """Pause from now."""
        self.until = time.monotonic() + self.seconds()

    def reset(self) -> None:
        """End the pause."""
        self.until = 0.0
