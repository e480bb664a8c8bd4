"""The Docker image installs the whole package (issue 11: the image stores in /data).

The import package is the link tree `package/seatkeeper/` (one symbolic link per layer folder,
pyproject.toml `package-dir`), so `pip install .` inside the image finds nothing unless the build
copies `package/` and every folder a link points at. No Docker daemon is needed to check that.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK_TREE = ROOT / "package" / "seatkeeper"


def _copied() -> set[str]:
    """The top-level paths the Dockerfile's COPY instructions take from the build context."""
    sources: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*COPY\s+(?!--from)(.+)$", line)
        if match:
            *paths, _destination = match.group(1).split()
            sources.update(p.rstrip("/").removeprefix("./").split("/")[0] for p in paths)
    return sources


def _ignored(name: str) -> bool:
    patterns = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    return any(fnmatch.fnmatch(name, p.rstrip("/")) for p in patterns if not p.startswith("!"))


def test_the_image_copies_the_link_tree_and_every_layer_it_links():
    layers = {link.resolve().name for link in LINK_TREE.iterdir() if link.is_symlink()}
    assert {"domain", "rules", "storage", "plugins", "schema", "resolvers", "server"} <= layers
    needed = {"package", "pyproject.toml", *layers}
    copied = _copied()
    assert needed <= copied, f"the Dockerfile does not COPY {sorted(needed - copied)}"
    assert not [name for name in needed if _ignored(name)]
