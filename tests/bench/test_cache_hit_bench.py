"""`make bench`: the cache-hit path now against the same path before issue 13.

The commit before issue 13's first change is checked out beside this tree (`git worktree`),
and tests/bench/hit_latency.py times a cache hit of the public product list in each tree,
one after the other, on its own SQLite database and the same Redis (flushed before each).
Redis must answer at BENCH_REDIS_URL (default redis://127.0.0.1:6379/12).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.bench.test_stack_bench import reachable
from tests.processes import ROOT

pytestmark = [pytest.mark.bench]
BEFORE_ISSUE_13 = "443f078581642fa23686b71459860c9dfefa9ad9"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def hit_latency(tree: Path, folder: str) -> float:
    """Median microseconds of a cache hit in `tree`."""
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{folder}/{tree.name}.sqlite3",
        "REDIS_URL": REDIS,
        "THROTTLE_ANON": "1000000000/min",
        "THROTTLE_PUBLIC_READ": "1000000000/min",
        "THROTTLE_USER": "1000000000/min",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    output = subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, str(ROOT / "tests" / "bench" / "hit_latency.py")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = [text for text in output.splitlines() if text.startswith('{"hit_us"')][-1]
    return float(json.loads(line)["hit_us"])


def test_a_cache_hit_against_the_hit_path_before_issue_13() -> None:
    """Print both latencies and the ratio."""
    if not reachable(REDIS):
        pytest.skip(f"needs Redis at {REDIS}")
    with tempfile.TemporaryDirectory(prefix="bench-hit-") as folder:
        before = Path(folder) / "before"
        subprocess.run(  # noqa: S603 - fixed command
            ["git", "worktree", "add", "--detach", "-q", str(before), BEFORE_ISSUE_13],  # noqa: S607
            cwd=ROOT,
            check=True,
        )
        try:
            old, new = hit_latency(before, folder), hit_latency(ROOT, folder)
        finally:
            subprocess.run(  # noqa: S603 - fixed command
                ["git", "worktree", "remove", "--force", str(before)],  # noqa: S607
                cwd=ROOT,
                check=True,
            )
    print(  # noqa: T201 - the benchmark's output
        f"\n[bench] cache hit, product list page 20 (Redis): now {new:.0f} us, before issue 13 "
        f"{old:.0f} us, ratio before/now {old / new:.2f}x"
    )
