"""`make bench`: run every benchmark, print one table, write benchmarks/RESULTS.md.

    python -m benchmarks.run            # everything (about 5 minutes)
    python -m benchmarks.run --only B1,B7 --rounds 5
    python -m benchmarks.run --quick    # small sizes, short runs: a smoke test of the suite itself

Each figure is a ratio against a baseline measured in the same run, repeated `--rounds` times
(median reported), because these machines are shared and noisy. Benchmarks are not tests: nothing
here runs under pytest, and nothing depends on timing elsewhere.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import BenchConfig, Figure

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# Figure ids -> the module that measures them (one module may measure several).
MODULES = {
    "B1": "benchmarks.b1_sync",
    "B1s": "benchmarks.b1s_sqlite",
    "B23s": "benchmarks.b23s_sqlite",
    "B12": "benchmarks.b12_workers",
    "B7": "benchmarks.b1_sync",
    "B13": "benchmarks.b1_sync",
    "B14": "benchmarks.b1_sync",
    "B2": "benchmarks.b2_users",
    "B3": "benchmarks.b3_set_license_state",
    "B4": "benchmarks.b4_import",
    "B5": "benchmarks.b5_memory",
    "B6": "benchmarks.b6_mongodb",
    "B8": "benchmarks.b8_b11_limits",
    "B9": "benchmarks.b9_fairness",
    "B9s": "benchmarks.b9s_sqlite",
    "B10": "benchmarks.b10_capacity_fall",
    "B11": "benchmarks.b8_b11_limits",
    "B15": "benchmarks.b15_console",
}
ORDER = [
    "B1",
    "B1s",
    "B2",
    "B3",
    "B23s",
    "B4",
    "B5",
    "B6",
    "B7",
    "B8",
    "B9",
    "B9s",
    "B10",
    "B11",
    "B12",
    "B13",
    "B14",
    "B15",
]


def group(figure_id: str) -> str:
    """The ORDER entry a figure belongs to: the longest that begins its id (B8a -> B8,
    B12 -> B12, B15a -> B15)."""
    matches = [entry for entry in ORDER if figure_id.startswith(entry)]
    return max(matches, key=len) if matches else figure_id[:2]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


def table(figures: list[Figure]) -> str:
    header = "| id | what | baseline (same run) | ratio | target | result | notes |"
    lines = [header, "| --- | --- | --- | --- | --- | --- | --- |"]
    for f in figures:
        lines.append(
            f"| {f.id} | {f.what} | {f.baseline} | {f.ratio_text} | {f.target} | {f.verdict} | {f.note} |"
        )
    return "\n".join(lines)


def write_results(figures: list[Figure], command: str, elapsed: float, config: BenchConfig) -> None:
    text = f"""# Benchmark results

Written by `make bench` (benchmarks/run.py; issue 6). Each ratio is the median of {config.rounds} rounds,
each round measuring the figure and its baseline back to back in the same run. Reproduce with
`sudo apt-get install wrk && make bench` (about 5 minutes; `make bench BENCH_ARGS="--only B1,B7"`
for some figures, `--quick` for a smoke run). HTTP figures: the server under uvicorn (one worker,
uvloop and httptools from the `bench` extra) pinned to core 1, wrk pinned to core 0. The others
run in-process through the whole ASGI app (GraphQL included) or, for B5, in a server process.

- date: {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
- machine: `nproc` = {cpu_count()}, CPU: {cpu_model()}
- Python {platform.python_version()} on {platform.system()} {platform.release()}
- command: `{command}`{" (quick mode: reduced sizes, not the figures of the issue)" if config.quick else ""}
- total time: {elapsed:.0f} s

{table(figures)}
"""
    RESULTS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description="Seatkeeper benchmarks (issue 6).")
    parser.add_argument("--only", help="comma-separated figure ids, e.g. B1,B3")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per figure (median reported; at least 3)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="seconds per wrk run (default 5; 2 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short runs (smoke test)"
    )
    parser.add_argument(
        "--server-args",
        default="",
        help="extra arguments for benchmarks/server_app.py, e.g. '--loop asyncio --http h11'",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write benchmarks/RESULTS.md"
    )
    args = parser.parse_args()

    config = BenchConfig(
        rounds=max(1, args.rounds),
        seconds=args.seconds or (2.0 if args.quick else 5.0),
        quick=args.quick,
        server_args=args.server_args.split(),
    )
    # Ids in any case (`b1s`, `B1S`), compared as MODULES spells them (B1s, B9s).
    spelled = {name.upper(): name for name in MODULES}
    only = [f.strip() for f in args.only.split(",")] if args.only else ORDER
    wanted = [spelled.get(f.upper(), f) for f in only]
    unknown = [f for f in wanted if f not in MODULES]
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(unknown)}")

    started = time.monotonic()
    results: dict[str, Figure] = {}
    done_modules: set[str] = set()
    for figure_id in ORDER:
        if figure_id not in wanted or MODULES[figure_id] in done_modules:
            continue
        module_name = MODULES[figure_id]
        done_modules.add(module_name)
        print(f"-- {module_name} ...", flush=True)
        section = time.monotonic()
        try:
            figures = importlib.import_module(module_name).run(config)
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            ids = [i for i, m in MODULES.items() if m == module_name]
            figures = [
                Figure(i, "(failed)", "—", None, "—", False, f"error: {error!s:.200}")
                for i in ids
                if i in wanted
            ]
        for figure in figures:
            # Drop the figures of another id this module also measures, unless asked for; keep
            # those of a variant named after another module's id (B23s gives B2as, B3as).
            figure_group = group(figure.id)
            if figure_group not in wanted and MODULES.get(figure_group) == module_name:
                continue
            results[figure.id] = figure
            print(
                f"   {figure.id}: {figure.ratio_text} ({figure.verdict}) {figure.note}", flush=True
            )
        print(f"   ({time.monotonic() - section:.0f} s)", flush=True)

    figures = sorted(results.values(), key=lambda f: (ORDER.index(group(f.id)), f.id))
    elapsed = time.monotonic() - started
    print()
    print(table(figures))
    print(f"\n{elapsed:.0f} s in all.")
    if not args.no_write:
        passed = " ".join(sys.argv[1:])
        if os.environ.get("SEATKEEPER_BENCH_FROM_MAKE"):
            command = f'make bench BENCH_ARGS="{passed}"' if passed else "make bench"
        else:
            command = " ".join(["python -m benchmarks.run", *sys.argv[1:]])
        write_results(figures, command, elapsed, config)
        print(
            f"Wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
