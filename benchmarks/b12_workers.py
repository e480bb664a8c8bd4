"""B12: server CPU-seconds per sync with `--workers 2` on one SQLite file ÷ with one worker.

A SQLite file is seeded with 10,000 licensed users, then `seatkeeper serve --storage sqlite:///…`
runs with one worker and with two (the real command line), each under the same wrk load (the
contract's Sync for random seeded users, 16 connections). The CPU time of every server process
(the uvicorn parent and its workers, from /proc) is divided by the requests answered. Target
≤ 1.2: two processes on one file cost no more per request than one.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from seatkeeper.rules.engine import Engine
from seatkeeper.storage import load_storage

from benchmarks.common import (
    BenchConfig,
    Figure,
    all_standard,
    contract_operation,
    median,
    not_available,
    seed_organization,
)
from benchmarks.http_load import (
    WRK_INSTALL_HINT,
    RunningServer,
    process_cpu_seconds,
    run_wrk,
    wrk_path,
)

USERS = 10_000
TARGET = 1.2
SYNC = contract_operation("Sync")
SEATKEEPER = str(Path(sys.executable).parent / "seatkeeper")


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's workers), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def _tree_cpu(pid: int) -> float:
    total = 0.0
    for member in _tree(pid):
        try:
            total += process_cpu_seconds(member)
        except OSError:
            pass
    return total


async def _seed(url: str, users: int, bodies: Path) -> str:
    storage = load_storage(url)
    await storage.open()
    seeded = await seed_organization(Engine(storage), users, all_standard)
    await storage.close()
    with bodies.open("wb") as out:
        for user in seeded.users:
            variables = {"input": {"userId": user.id, "email": user.email}}
            out.write(orjson.dumps({"query": SYNC, "variables": variables}) + b"\n")
    return seeded.sync_token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_per_sync(url: str, workers: int, token: str, bodies: Path, config: BenchConfig):
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
    environment["SEATKEEPER_DATA_DIR"] = str(bodies.parent / "data")
    process = subprocess.Popen(
        [SEATKEEPER, "serve", "--storage", url, "--workers", str(workers), "--port", str(port)]
        + ["--no-graphiql", "--log-level", "warning", "--sync-log-retention-days", "0"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"seatkeeper serve --workers {workers} did not start")
            time.sleep(0.2)
        server = RunningServer(base, process.pid, {"sync_token": token}, bodies)
        run_wrk(server, "/graphql", 16, 2)  # warm up every worker
        costs, problems = [], []
        for _ in range(config.rounds):
            before = _tree_cpu(process.pid)
            result = run_wrk(server, "/graphql", 16, config.seconds)
            costs.append((_tree_cpu(process.pid) - before) / max(1, result.requests))
            if not result.clean:
                problems.append(f"{result.errors}/{result.status_errors} errors")
        return costs, problems
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(config: BenchConfig) -> list[Figure]:
    what = "server CPU-s per sync on one SQLite file, --workers 2 ÷ --workers 1"
    if wrk_path() is None:
        print(WRK_INSTALL_HINT)
        return [not_available("B12", what, f"≤ {TARGET}", "wrk not installed")]
    users = config.size(USERS, 1_000)
    with tempfile.TemporaryDirectory(prefix="seatkeeper-b12-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'b12.db'}"
        bodies = Path(scratch) / "bodies.jsonl"
        token = asyncio.run(_seed(url, users, bodies))
        one, problems_one = _cpu_per_sync(url, 1, token, bodies, config)
        two, problems_two = _cpu_per_sync(url, 2, token, bodies, config)
    ratio = median(two) / median(one)
    problems = problems_one + problems_two
    return [
        Figure(
            "B12",
            what,
            f"{median(one) * 1e6:,.0f} µs CPU per sync with 1 worker",
            ratio,
            f"≤ {TARGET}",
            ratio <= TARGET and not problems,
            f"{median(two) * 1e6:,.0f} µs with 2 workers"
            + (f"; {'; '.join(problems)}" if problems else ""),
        )
    ]
