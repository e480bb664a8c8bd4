"""Issue 9's B8 and B11: refusing costly documents is cheap, and large documents leave no memory.

In-process through the whole ASGI app (authentication, GraphQL, limits), with a READER token:

* B8: the fragment bomb (`query{...F0} fragment F0 on Query{...F1 ...F1} …`, n = 22 and 40
  levels) is refused; its median time over the median time of `{ __typename }`. Every document
  sent is distinct (a comment with a counter), so neither is answered from a cache: the figure
  is the cost of parsing and judging, not of a cache look-up. Target ≤ 20×.
* B11: the process's resident memory after 30 distinct 10 MB queries (a 10 MB comment, then
  `{ __typename }`), minus before. Target ≤ 50 MB. Such documents are refused by their length
  before they are lexed (MAX_DOCUMENT_CHARS), and larger than the caches' per-document bound, so
  none is kept (schema/limits.py).
* B11b: the same after 400 distinct small documents dense in tokens (10 KB, 4,990 one-letter
  fields: each parses into ~2.8 MB of syntax tree). They are under every limit and cacheable, so
  the caches must count what they keep alive, not the text (4 MB of such text was over 1 GB).
  Target ≤ 50 MB.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import orjson
from seatkeeper.domain.records import Role
from seatkeeper.server.app import create_app

from benchmarks.common import AsgiClient, BenchConfig, Figure, median, seed_organization

CALLS = 40


def bomb(levels: int, salt: int) -> str:
    parts = [f"# {salt}\nquery{{...F0}}"]
    parts += [f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query{{__typename}}")
    return " ".join(parts)


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def median_seconds(client: AsgiClient, document_of, expect_refused: bool) -> float:
    samples = []
    for call in range(CALLS):
        body = orjson.dumps({"query": document_of(call)})
        started = time.perf_counter()
        status, raw = await client.post_raw(body)
        samples.append(time.perf_counter() - started)
        answer = orjson.loads(raw)
        refused = bool(answer.get("errors"))
        if status != 200 or refused != expect_refused:
            raise RuntimeError(f"unexpected answer ({status}): {raw[:300]!r}")
    return median(samples)


async def measure(config: BenchConfig) -> list[Figure]:
    app = create_app("memory://", graphiql=False)
    engine = app.state.engine
    seeded = await seed_organization(engine, 10)
    reader = (await engine.create_token(seeded.organization_id, Role.READER, "bench")).value
    client = AsgiClient(app, reader.secret)
    counter = iter(range(10**9))

    figures = []
    for levels, figure_id in ((22, "B8a"), (40, "B8b")):
        ratios, bomb_ms, plain_ms = [], [], []
        for _ in range(config.rounds):
            plain = await median_seconds(
                client, lambda c: f"# {next(counter)}\n{{ __typename }}", False
            )
            refused = await median_seconds(
                client, lambda c, levels=levels: bomb(levels, next(counter)), True
            )
            ratios.append(refused / plain)
            bomb_ms.append(refused * 1000)
            plain_ms.append(plain * 1000)
        ratio = median(ratios)
        figures.append(
            Figure(
                figure_id,
                f"fragment bomb n={levels} refused, READER token (distinct documents)",
                f"{{ __typename }} {median(plain_ms):.2f} ms",
                ratio,
                "≤ 20×",
                ratio <= 20,
                f"{median(bomb_ms):.2f} ms; rounds {', '.join(f'{r:.1f}' for r in ratios)}",
            )
        )

    count, size = config.size(30, 5), 10 * 1024 * 1024
    growths = []
    for _ in range(config.rounds):
        gc.collect()
        before = resident_mb()
        for _ in range(count):
            query = "#" + "x" * size + f"{next(counter)}\n{{ __typename }}"
            status, raw = await client.post_raw(orjson.dumps({"query": query}))
            del query
            if status != 200 or b"DOCUMENT_TOO_LARGE" not in raw:
                raise RuntimeError(f"unexpected answer ({status}): {raw[:300]!r}")
        gc.collect()
        growths.append(resident_mb() - before)
    growth = median(growths)
    figures.append(
        Figure(
            "B11",
            f"RSS growth after {count} distinct 10 MB queries, READER token",
            "RSS before",
            growth,
            "≤ 50 MB",
            growth <= 50,
            f"rounds {', '.join(f'{g:.1f}' for g in growths)} MB",
            ratio_format="{:+.1f} MB",
        )
    )
    figures.append(await dense_documents(client, config, counter))
    return figures


async def dense_documents(client: AsgiClient, config: BenchConfig, counter) -> Figure:
    count = config.size(400, 40)
    growths = []
    for _ in range(config.rounds):
        gc.collect()
        before = resident_mb()
        for _ in range(count):
            query = "{" + " a" * 4_990 + f" b{next(counter)} }}"
            status, raw = await client.post_raw(orjson.dumps({"query": query}))
            if status != 200 or b"GRAPHQL_VALIDATION_FAILED" not in raw:
                raise RuntimeError(f"unexpected answer ({status}): {raw[:300]!r}")
        gc.collect()
        growths.append(resident_mb() - before)
    growth = median(growths)
    return Figure(
        "B11b",
        f"RSS growth after {count} distinct 10 KB documents of 5,000 tokens, READER token",
        "RSS before",
        growth,
        "≤ 50 MB",
        growth <= 50,
        f"rounds {', '.join(f'{g:.1f}' for g in growths)} MB",
        ratio_format="{:+.1f} MB",
    )


def run(config: BenchConfig) -> list[Figure]:
    return asyncio.run(measure(config))
