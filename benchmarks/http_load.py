"""The HTTP side of the suite: a benchmark server in its own process, and `wrk` to load it.

The server (benchmarks/server_app.py, uvicorn, one worker) and wrk are pinned to different cores
with `taskset` when the machine has two or more, so that the load generator does not steal the
server's CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.common import ROOT

SERVER_CORE, WRK_CORE = "1", "0"
LUA_SCRIPT = Path(__file__).resolve().parent / "sync.lua"
WRK_INSTALL_HINT = (
    "wrk is not installed: the HTTP figures (B1, B7) are skipped. "
    "Install it with `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)."
)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def pinning_available() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(command: list[str], core: str) -> list[str]:
    """`command` under `taskset -c core` where that is possible, else as is."""
    return ["taskset", "-c", core, *command] if pinning_available() else command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    pid: int
    info: dict
    bodies_file: Path
    #: The same syncs shaped as Apollo Client sends them (B13); only benchmark_server writes them.
    apollo_bodies_file: Path | None = None


@contextmanager
def benchmark_server(
    users: int, sync_log: int = 0, extra_args: list[str] | None = None, timeout: float = 600
):
    """Start benchmarks/server_app.py seeded with `users` users; stop it on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="seatkeeper-bench-") as scratch:
        info_file = Path(scratch) / "info.json"
        bodies_file = Path(scratch) / "bodies.jsonl"
        apollo_bodies_file = Path(scratch) / "apollo-bodies.jsonl"
        log_file = open(Path(scratch) / "server.log", "w+")  # noqa: SIM115 - the server writes to it until the finally block closes it
        command = pinned(
            [
                sys.executable,
                "-m",
                "benchmarks.server_app",
                "--port",
                str(port),
                "--users",
                str(users),
                "--sync-log",
                str(sync_log),
                "--info",
                str(info_file),
                "--bodies-file",
                str(bodies_file),
                "--apollo-bodies-file",
                str(apollo_bodies_file),
                *(extra_args or []),
            ],
            SERVER_CORE,
        )
        process = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    log_file.seek(0)
                    raise RuntimeError(
                        f"benchmark server exited ({process.returncode}):\n{log_file.read()[-3000:]}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError("benchmark server did not start in time")
                try:
                    if (
                        info_file.exists()
                        and httpx.get(f"{url}/healthz", timeout=1).status_code == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            info = json.loads(info_file.read_text())
            yield RunningServer(url, process.pid, info, bodies_file, apollo_bodies_file)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log_file.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    status_errors: int
    p50_ms: float
    p99_ms: float
    server_cpu_seconds: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def requests_per_cpu_second(self) -> float:
        """Requests per second of the server's own CPU time: what the server costs, whatever
        else the machine was doing (a cross-check of the wall-clock rate on a shared machine)."""
        return self.requests / self.server_cpu_seconds if self.server_cpu_seconds else float("nan")

    @property
    def server_busy(self) -> float:
        """The share of the run's wall time the server spent on a CPU (1.0: saturated)."""
        return self.server_cpu_seconds / self.seconds

    @property
    def clean(self) -> bool:
        return self.errors == 0 and self.status_errors == 0


def run_wrk(
    server: RunningServer,
    path: str,
    connections: int,
    seconds: float,
    bodies_file: Path | None = None,
) -> WrkResult:
    """One wrk run posting the Sync operation for random seeded users to `path` (the bodies of
    `bodies_file` when given, e.g. the Apollo-shaped ones)."""
    command = pinned(
        [
            wrk_path() or "wrk",
            "-t1",  # one core for the load generator: one thread
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA_SCRIPT),
            f"{server.url}{path}",
            "--",
            str(bodies_file or server.bodies_file),
            server.info["sync_token"],
        ],
        WRK_CORE,
    )
    cpu_before = process_cpu_seconds(server.pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    server_cpu = process_cpu_seconds(server.pid) - cpu_before
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=data["errors"],
                status_errors=data["status_errors"],
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                server_cpu_seconds=server_cpu,
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")
