"""Threads + pymongo's MongoClient against pymongo's AsyncMongoClient, on small lookups.

    python -m benchmarks.mongodb_clients [operations] [concurrency]

No MongoDB server is needed, and no mongomock either: a loopback stub speaking the wire
protocol (OP_QUERY/OP_REPLY for the handshake, OP_MSG after it) runs in a child process and
answers every `find` with one small user document at once. Both clients therefore do their full
work — BSON, sockets, server selection, sessions, pools — and the difference measured is what each
costs a Seatkeeper process per operation: the thread hop of `MongoStorage` against the async
client's own machinery. A real server adds the same latency to both.

What it printed on the 2-core machine of this project (Python 3.11, pymongo 4.20.1, 3000 finds,
best of 3; two runs, so the spread shows):

    concurrency   1  threads        0.425 / 0.496 ms/op   2,351 / 2,018 op/s
    concurrency   1  async client   0.635 / 0.839 ms/op   1,576 / 1,191 op/s
    concurrency  32  threads        0.346 / 0.468 ms/op   2,893 / 2,137 op/s
    concurrency  32  async client   0.601 / 0.766 ms/op   1,664 / 1,306 op/s

The thread hop costs less than the async client's own per-operation work, one request at a time
and under load alike (the stub, single-threaded Python, caps both throughputs). `MongoStorage`
runs whole protocol calls in the pool, so an `apply_changes` of five writes pays one hop, not
five: the figures above are the threads' worst case.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
USER = {
    "_id": "x",
    "org": "org-a",
    "key": "u1",
    "id": "u1",
    "full_name": "User One",
    "email": "u1@example.com",
    "standard": "ASSIGNED",
    "inspections": "UNASSIGNED",
}
HELLO = {
    "ismaster": True,
    "isWritablePrimary": True,
    "helloOk": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48_000_000,
    "maxWriteBatchSize": 100_000,
    "logicalSessionTimeoutMinutes": 30,
    "connectionId": 1,
    "minWireVersion": 0,
    "maxWireVersion": 21,
    "readOnly": False,
    "ok": 1.0,
}


# ------------------------------------------------------------------------------ the stub


def _answer(command: dict) -> dict:
    name = next(iter(command))
    if name.lower() in ("hello", "ismaster"):
        return {**HELLO, "localTime": datetime.now(UTC)}
    if name == "find":
        return {
            "cursor": {
                "firstBatch": [USER],
                "id": 0,
                "ns": f"{command.get('$db', 'db')}.{command['find']}",
            },
            "ok": 1.0,
        }
    return {"ok": 1.0}


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request_id = 0
    try:
        while True:
            header = await reader.readexactly(16)
            length, their_id, _, opcode = struct.unpack("<iiii", header)
            body = await reader.readexactly(length - 16)
            request_id += 1
            if opcode == OP_QUERY:
                # flags, collection name (cstring), skip, limit, then the query document.
                end = body.index(b"\x00", 4)
                query = bson.decode(
                    body[end + 9 :][: struct.unpack("<i", body[end + 9 : end + 13])[0]]
                )
                doc = bson.encode(_answer(query))
                payload = struct.pack("<iqii", 0, 0, 0, 1) + doc
                writer.write(
                    struct.pack("<iiii", 16 + len(payload), request_id, their_id, OP_REPLY)
                    + payload
                )
            elif opcode == OP_MSG:
                # flags, then section kind 0: the command document (kind 1 sections: not used by finds).
                size = struct.unpack("<i", body[5:9])[0]
                command = bson.decode(body[5 : 5 + size])
                payload = struct.pack("<I", 0) + b"\x00" + bson.encode(_answer(command))
                writer.write(
                    struct.pack("<iiii", 16 + len(payload), request_id, their_id, OP_MSG) + payload
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def _run_stub(port_out) -> None:
    async def main():
        server = await asyncio.start_server(_serve_connection, "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ----------------------------------------------------------------------------- measuring


def _uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=3000&directConnection=true&maxPoolSize=64"


async def _threads(port: int, operations: int, concurrency: int) -> float:
    from pymongo import MongoClient

    client = MongoClient(_uri(port))
    users = client["seatkeeper"]["users"]
    pool = ThreadPoolExecutor(max_workers=32)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, users.find_one, {"key": "u1"})  # connect and warm up
    started = time.perf_counter()
    await _drive(
        lambda: loop.run_in_executor(pool, users.find_one, {"key": "u1"}), operations, concurrency
    )
    elapsed = time.perf_counter() - started
    pool.shutdown()
    client.close()
    return elapsed


async def _async_client(port: int, operations: int, concurrency: int) -> float:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(_uri(port))
    users = client["seatkeeper"]["users"]
    await users.find_one({"key": "u1"})
    started = time.perf_counter()
    await _drive(lambda: users.find_one({"key": "u1"}), operations, concurrency)
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


async def _drive(operation, operations: int, concurrency: int) -> None:
    remaining = operations

    async def worker():
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            doc = await operation()
            assert doc["key"] == "u1"

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def main(argv: list[str]) -> None:
    operations = int(argv[0]) if argv else 3000
    concurrency_levels = [1, int(argv[1]) if len(argv) > 1 else 32]
    parent, child = multiprocessing.Pipe()
    stub = multiprocessing.Process(target=_run_stub, args=(child,), daemon=True)
    stub.start()
    port = parent.recv()
    try:
        for concurrency in concurrency_levels:
            best = {"threads": float("inf"), "async client": float("inf")}
            for _ in range(3):
                best["threads"] = min(
                    best["threads"], asyncio.run(_threads(port, operations, concurrency))
                )
                best["async client"] = min(
                    best["async client"], asyncio.run(_async_client(port, operations, concurrency))
                )
            for name, elapsed in best.items():
                print(
                    f"concurrency {concurrency:>3}  {name:<13} {elapsed / operations * 1000:6.3f} ms/op"
                    f"  {operations / elapsed:8,.0f} op/s"
                )
    finally:
        stub.terminate()
        stub.join()


if __name__ == "__main__":
    main(sys.argv[1:])
