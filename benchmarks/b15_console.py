"""B8: the console's first screen costs the same for 100,000 users as for 100 (issue 14).

A real server process (tests/console/console_server.py) holds two organizations made through the
public API, one of 100 users and one of 100,000 (the same mix: 57 Standard and 10 Inspections
seats held, three pending users). Two measurements, each a ratio large / small:

* B15a — the console's own first-screen GraphQL requests over HTTP, exactly as it sends them
  (each operation of server/trusted_documents/console.graphql alone, by name): ConsoleViewer,
  ConsoleOrganization, ConsoleSubscriptions and ConsoleUsers(first: 50), in sequence; median of
  many sequences.
* B15b — in Debian's Chromium (when installed): from navigation start to the
  `seatkeeper:first-screen` performance mark the console sets once the users list and the
  Subscriptions pane are drawn; median of several page loads.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import BenchConfig, Figure, not_available

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "console"))

from console_support import (
    ConsoleServer,
    browser_missing,
    chromium,
    seed_acme,
)

SMALL, LARGE = 100, 100_000
SEQUENCES = 25  # first-screen request sequences per organization and round
PAGE_LOADS = 5  # browser page loads per organization and round
TARGET = 1.5
FIRST_SCREEN = [
    ("ConsoleViewer", {}),
    ("ConsoleOrganization", {}),
    ("ConsoleSubscriptions", {}),
    ("ConsoleUsers", {"first": 50}),
]


def console_operations() -> dict[str, str]:
    text = (ROOT / "server" / "trusted_documents" / "console.graphql").read_text(encoding="utf-8")
    starts = list(re.finditer(r"^(?:query|mutation)\s+(\w+)", text, re.MULTILINE))
    return {
        m.group(1): text[m.start() : starts[i + 1].start() if i + 1 < len(starts) else None].strip()
        for i, m in enumerate(starts)
    }


def request_sequence(server: ConsoleServer, token: str, operations: dict[str, str]) -> float:
    started = time.perf_counter()
    for name, variables in FIRST_SCREEN:
        response = server.http.post(
            "/graphql",
            json={"query": operations[name], "operationName": name, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200 or "errors" in response.json():
            raise RuntimeError(f"{name}: {response.text[:200]}")
    return time.perf_counter() - started


def page_load(driver, server: ConsoleServer, token: str) -> float:
    """Seconds from navigation start to the first screen, signed in with `token`."""
    driver.get(f"{server.base}/")  # another URL than the next: a real navigation, not a fragment
    driver.execute_script("sessionStorage.setItem('seatkeeper.console.token', arguments[0])", token)
    driver.get(f"{server.base}/console/")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        marks = driver.execute_script(
            "return performance.getEntriesByName('seatkeeper:first-screen').map(m => m.startTime)"
        )
        if marks:
            return marks[0] / 1000
        time.sleep(0.02)
    raise RuntimeError("the console's first screen was not drawn within 60 s")


def run(config: BenchConfig) -> list[Figure]:
    large_count = config.size(LARGE, 10_000)
    operations = console_operations()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as workdir, ConsoleServer(Path(workdir)) as server:
        small = seed_acme(server, "Small", SMALL)
        large = seed_acme(server, "Large", large_count)
        label = f"{large_count:,}"

        ratios, small_ms, large_ms = [], [], []
        for _ in range(config.rounds):
            request_sequence(server, small.admin, operations)  # warm caches
            request_sequence(server, large.admin, operations)
            s = statistics.median(
                request_sequence(server, small.admin, operations) for _ in range(SEQUENCES)
            )
            g = statistics.median(
                request_sequence(server, large.admin, operations) for _ in range(SEQUENCES)
            )
            ratios.append(g / s)
            small_ms.append(s * 1000)
            large_ms.append(g * 1000)
        ratio = statistics.median(ratios)
        figures.append(
            Figure(
                "B15a",
                f"console first-screen GraphQL requests (4, over HTTP) at {label} users",
                f"{statistics.median(small_ms):.1f} ms at {SMALL} users",
                ratio,
                f"≤ {TARGET}×",
                ratio <= TARGET,
                f"{statistics.median(large_ms):.1f} ms at {label}; rounds "
                + ", ".join(f"{r:.2f}" for r in ratios),
            )
        )

        missing = browser_missing()
        if missing:
            figures.append(
                not_available("B15b", "console first screen in Chromium", f"≤ {TARGET}×", missing)
            )
            return figures
        try:
            figures.append(browser_figure(server, small.admin, large.admin, label, config))
        except Exception as error:  # noqa: BLE001 (any failure: the request figure above still stands)
            figures.append(
                not_available(
                    "B15b", "console first screen in Chromium", f"≤ {TARGET}×", str(error)
                )
            )
    return figures


def browser_figure(
    server: ConsoleServer, small: str, large: str, label: str, config: BenchConfig
) -> Figure:
    """B15b: median page loads in Chromium, large / small, per round; the median of the rounds."""
    ratios, small_ms, large_ms = [], [], []
    with tempfile.TemporaryDirectory() as downloads:
        driver = chromium(Path(downloads))
        try:
            for _ in range(config.rounds):
                page_load(driver, server, small)  # warm the browser's cache of modules
                s = statistics.median(page_load(driver, server, small) for _ in range(PAGE_LOADS))
                g = statistics.median(page_load(driver, server, large) for _ in range(PAGE_LOADS))
                ratios.append(g / s)
                small_ms.append(s * 1000)
                large_ms.append(g * 1000)
        finally:
            driver.quit()
    ratio = statistics.median(ratios)
    return Figure(
        "B15b",
        f"console first screen in Chromium (navigation to users list + Subscriptions drawn) at {label} users",
        f"{statistics.median(small_ms):.0f} ms at {SMALL} users",
        ratio,
        f"≤ {TARGET}×",
        ratio <= TARGET,
        f"{statistics.median(large_ms):.0f} ms at {label}; rounds "
        + ", ".join(f"{r:.2f}" for r in ratios),
    )
