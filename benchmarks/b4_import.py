"""B4: importLicenses of a 100,000-row file, against `csv.reader` merely reading the same file.

The contract's ImportLicenses (MERGE), in-process through the whole app, on an organization whose
100,000 users exist and hold nothing; the file assigns Standard to 60% of them, Inspections to
20%, and leaves 20% empty (seats for everyone). Each timed import is undone, untimed, by importing
a file that leaves every row empty.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time

from seatkeeper.domain.records import LicenseState
from seatkeeper.server.app import create_app

from benchmarks.common import (
    AsgiClient,
    BenchConfig,
    Figure,
    contract_operation,
    median,
    not_available,
    seed_organization,
)

ROWS = 100_000
WHAT = "importLicenses of a {rows}-row file (time)"


def unassigned(index: int) -> tuple[LicenseState, LicenseState]:
    return (LicenseState.UNASSIGNED, LicenseState.UNASSIGNED)


def licenses_file(users, assign: bool) -> str:
    """The licenses file of SPEC 7 (quoted, CRLF) for `users`."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["Id", "Full Name", "Email", "Standard", "Inspections"])
    for index, user in enumerate(users):
        slot = index % 10
        standard = "Assigned" if assign and slot < 6 else ""
        inspections = "Assigned" if assign and 6 <= slot < 8 else ""
        writer.writerow([user.id, user.full_name, user.email, standard, inspections])
    return out.getvalue()


def read_with_csv_reader(text: str) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(text)))


async def measure(config: BenchConfig) -> list[Figure]:
    rows = config.size(ROWS, 10_000)
    try:
        import_licenses = contract_operation("ImportLicenses")
    except LookupError:
        return [
            not_available(
                "B4", WHAT.format(rows=f"{rows:,}"), "≤ 10×", "no ImportLicenses in the contract"
            )
        ]
    app = create_app("memory://", graphiql=False)
    engine = app.state.engine
    if not hasattr(engine, "import_licenses"):
        return [
            not_available(
                "B4", WHAT.format(rows=f"{rows:,}"), "≤ 10×", "Engine.import_licenses not there yet"
            )
        ]
    seeded = await seed_organization(engine, rows, unassigned, seed=31)
    client = AsgiClient(app, seeded.admin_token)
    assigning, clearing = licenses_file(seeded.users, True), licenses_file(seeded.users, False)

    async def run_import(text: str) -> float:
        started = time.perf_counter()
        data = await client.post(import_licenses, {"input": {"csv": text, "mode": "MERGE"}})
        elapsed = time.perf_counter() - started
        report = data["importLicenses"]
        if not report["applied"] or report["userErrors"]:
            raise RuntimeError(
                f"import refused: {report['userErrors'][:3]} {report['problems'][:3]}"
            )
        return elapsed

    ratios, import_s, reader_s = [], [], []
    for _ in range(config.rounds):
        reading = median([_timed_read(assigning) for _ in range(5)])
        importing = await run_import(assigning)
        await run_import(clearing)
        ratios.append(importing / reading)
        import_s.append(importing)
        reader_s.append(reading)
    ratio = median(ratios)
    return [
        Figure(
            "B4",
            WHAT.format(rows=f"{rows:,}"),
            f"csv.reader {median(reader_s) * 1000:.0f} ms",
            ratio,
            "≤ 10×",
            ratio <= 10,
            f"import {median(import_s):.2f} s ({median(import_s) / rows * 1e6:.1f} µs/row); "
            f"rounds {', '.join(f'{r:.1f}' for r in ratios)}",
        )
    ]


def _timed_read(text: str) -> float:
    started = time.perf_counter()
    read_with_csv_reader(text)
    return time.perf_counter() - started


def run(config: BenchConfig) -> list[Figure]:
    return asyncio.run(measure(config))
