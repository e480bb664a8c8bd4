"""The committed schema.graphql is what the code generates (ARCHITECTURE: the SDL is committed)."""

from pathlib import Path

from seatkeeper.schema.root import sdl

ROOT = Path(__file__).resolve().parents[2]


def test_committed_sdl_matches_the_code():
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), "schema.graphql is stale: run `make schema` and commit it"
