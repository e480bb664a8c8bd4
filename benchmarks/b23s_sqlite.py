"""B2 and B3 on the SQLite plugin: the same measurements as b2_users.py and
b3_set_license_state.py, on a fresh SQLite file (each ratio still within one storage)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

from benchmarks import b2_users, b3_set_license_state
from benchmarks.common import BenchConfig, Figure


def run(config: BenchConfig) -> list[Figure]:
    figures = []
    for module in (b2_users, b3_set_license_state):
        with tempfile.TemporaryDirectory(prefix="seatkeeper-b23s-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'bench.db'}"
            for figure in asyncio.run(module.measure(config, url)):
                figures.append(replace(figure, id=f"{figure.id}s", what=f"SQLite: {figure.what}"))
    return figures
