"""Plugins declare what they can do (issue 11); the server reads that, never the URL's text."""

from __future__ import annotations

from typing import ClassVar

import pytest
from seatkeeper.storage import PROTOCOL_VERSION, Capabilities, capabilities_of, load_storage
from seatkeeper.storage.protocol import UNDECLARED


@pytest.mark.parametrize(
    ("url", "shared", "durable", "expires"),
    [
        ("memory://", False, False, False),
        ("sqlite:///declared.db", True, True, False),
        ("mongodb://localhost/x", True, True, True),
        ("mongodb://localhost/x?syncLogRetentionDays=0", True, True, False),
    ],
)
def test_each_shipped_plugin_declares_its_capabilities(url, shared, durable, expires):
    capabilities = capabilities_of(load_storage(url))  # nothing connects or opens a file
    assert capabilities.shared_between_processes is shared
    assert capabilities.durable is durable
    assert capabilities.expires_sync_log is expires
    assert capabilities.thread_safe is True
    assert capabilities.protocol_version == PROTOCOL_VERSION


def test_a_backend_that_declares_nothing_is_assumed_to_offer_the_least():
    class Bare:
        pass

    class Wrong:
        capabilities: ClassVar = {"shared_between_processes": True}  # not a Capabilities

    assert capabilities_of(Bare()) == UNDECLARED == capabilities_of(Wrong())
    assert not UNDECLARED.shared_between_processes and not UNDECLARED.durable
    assert Capabilities(True, True, True).protocol_version == PROTOCOL_VERSION
