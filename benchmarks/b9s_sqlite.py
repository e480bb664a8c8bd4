"""B9s (issue 9): B9 on a SQLite file instead of memory (benchmarks/b9_fairness.py).

Reported, no target: SQLite lets one transaction write at a time, and the import is one
transaction (all or nothing), so other organizations' sync writes wait for it whatever the event
loop does.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from benchmarks.b9_fairness import measure
from benchmarks.common import BenchConfig, Figure


def run(config: BenchConfig) -> list[Figure]:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'b9s.db'}"
        return asyncio.run(measure(config, url, "B9s"))
