"""A real Seatkeeper server process for the console's browser tests, screenshots and benchmark.

`python console_server.py --port N --operator-token T --clock-file F [--storage URL]` serves
`create_app` with uvicorn, on memory storage unless told otherwise. Its clock is the wall clock
(the browser's clock must agree with the server's for trial end dates) moved by the number of
days written in the clock file, which a test rewrites to make users inactive without waiting:
time in tests stays injected.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from seatkeeper.server.app import create_app


class FileOffsetClock:
    """now() = wall clock + the days in `path` (re-read only when the file changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._offset = timedelta()

    def __call__(self) -> datetime:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._stamp = stamp
            text = self.path.read_text().strip() if stamp is not None else ""
            self._offset = timedelta(days=float(text or 0))
        return datetime.now(UTC) + self._offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--operator-token", required=True)
    parser.add_argument("--clock-file", type=Path, required=True)
    parser.add_argument("--storage", default="memory://", help="storage URL (default memory://)")
    arguments = parser.parse_args()
    app = create_app(
        arguments.storage,
        clock=FileOffsetClock(arguments.clock_file),
        operator_token=arguments.operator_token,
    )
    uvicorn.run(app, host="127.0.0.1", port=arguments.port, log_level="warning")


if __name__ == "__main__":
    main()
