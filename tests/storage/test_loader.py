"""load_storage: a storage URL names a plugin by its scheme, found through entry points.

Failures are StorageConfigError with a reason an operator can act on (ARCHITECTURE.md, "The
storage plugin contract"). Broken or third-party plugins are simulated with fake entry points.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest
from seatkeeper.storage import Storage, StorageConfigError, installed_plugins, load_storage, loader
from seatkeeper.storage.contract import ORG, make_org

GROUP = loader.ENTRY_POINT_GROUP


def use_entry_points(monkeypatch, *points: tuple[str, str]) -> None:
    """Make the loader see exactly these (name, value) plugins instead of the installed ones."""
    fakes = [EntryPoint(name=name, value=value, group=GROUP) for name, value in points]

    def fake_entry_points(*, group: str):
        return [ep for ep in fakes if ep.group == group]

    monkeypatch.setattr(loader, "entry_points", fake_entry_points)


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    """Write a throwaway module importable by name; it is forgotten afterwards."""
    written = []

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        written.append(name)
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    yield write
    for name in written:
        sys.modules.pop(name, None)


# -- the shipped plugin ---------------------------------------------------------------------


def test_memory_is_installed_and_loads_by_its_scheme():
    assert "memory" in installed_plugins()
    storage = load_storage("memory://")
    assert isinstance(storage, Storage)

    async def use():
        await storage.open()
        await storage.ping()
        await make_org(storage)
        assert (await storage.get_organization(ORG)).id == ORG
        await storage.close()

    asyncio.run(use())


def test_each_load_builds_a_new_backend():
    first, second = load_storage("memory://"), load_storage("memory://")
    assert first is not second

    async def check():
        await make_org(first)
        assert await second.get_organization(ORG) is None

    asyncio.run(check())


def test_scheme_is_case_insensitive():
    assert isinstance(load_storage("MEMORY://"), Storage)
    assert isinstance(load_storage("Memory://?sync_log_cap=10"), Storage)


# -- URLs that name nothing ----------------------------------------------------------------


def test_unknown_scheme_names_the_installed_plugins():
    with pytest.raises(StorageConfigError) as caught:
        load_storage("postgres://localhost/seatkeeper")
    message = str(caught.value)
    assert "'postgres'" in message
    for name in installed_plugins():
        assert name in message


def test_unknown_scheme_with_fake_plugins_lists_them_sorted(monkeypatch):
    use_entry_points(monkeypatch, ("zeta", "x:Y"), ("alpha", "x:Y"))
    with pytest.raises(StorageConfigError, match=r"installed plugins: alpha, zeta$"):
        load_storage("memory://")


def test_unknown_scheme_with_no_plugin_at_all(monkeypatch):
    use_entry_points(monkeypatch)
    assert installed_plugins() == []
    with pytest.raises(StorageConfigError, match="installed plugins: none"):
        load_storage("memory://")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "memory",
        "memory:",
        "memory:/",
        "localhost:27017",
        "://localhost",
        "1memory://",
        "mem ory://",
        " ://",
    ],
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(StorageConfigError) as caught:
        load_storage(url)
    message = str(caught.value)
    assert "malformed" in message or "no scheme" in message
    assert "memory://" in message  # the refusal shows what a URL looks like


@pytest.mark.parametrize("url", [None, 42, b"memory://", ["memory://"], object()])
def test_non_string_urls_are_a_config_error_not_a_type_error(url):
    with pytest.raises(StorageConfigError, match="malformed"):
        load_storage(url)  # type: ignore[arg-type]  # wrong types on purpose


def test_huge_urls_are_refused_without_loading_anything(monkeypatch):
    calls = []
    monkeypatch.setattr(loader, "entry_points", lambda **kw: calls.append(kw) or [])
    with pytest.raises(StorageConfigError, match="malformed"):
        load_storage("m" * 1_000_000)
    assert calls == []  # refused on its face, before looking for plugins
    with pytest.raises(StorageConfigError, match="no valid scheme") as caught:
        load_storage("x" * 100_000 + "://host")
    assert len(str(caught.value)) < 300  # the message quotes a shortened URL


# -- plugins that break -----------------------------------------------------------------------


def test_plugin_that_fails_to_import_is_named_with_its_cause(monkeypatch):
    use_entry_points(monkeypatch, ("broken", "nonexistent_module_xyz:Thing"))
    with pytest.raises(StorageConfigError) as caught:
        load_storage("broken://somewhere")
    message = str(caught.value)
    assert "'broken'" in message and "nonexistent_module_xyz:Thing" in message
    assert "failed to load" in message and "ModuleNotFoundError" in message
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_plugin_naming_a_missing_attribute(monkeypatch):
    use_entry_points(monkeypatch, ("typo", "seatkeeper.plugins.memory:MemoryStorag"))
    with pytest.raises(StorageConfigError, match=r"'typo'.*failed to load: AttributeError"):
        load_storage("typo://")


def test_plugin_whose_import_raises(monkeypatch, plugin_module):
    module = plugin_module(
        "seatkeeper_test_explodes", "raise RuntimeError('driver missing: install extra [fast]')\n"
    )
    use_entry_points(monkeypatch, ("boom", f"{module}:Storage"))
    with pytest.raises(StorageConfigError) as caught:
        load_storage("boom://")
    assert "'boom'" in str(caught.value)
    assert "RuntimeError: driver missing: install extra [fast]" in str(caught.value)


def test_plugin_that_refuses_its_url(monkeypatch, plugin_module):
    module = plugin_module(
        "seatkeeper_test_refuses",
        """
        class Storage:
            def __init__(self, url):
                raise ValueError("port must be a number")
        """,
    )
    use_entry_points(monkeypatch, ("picky", f"{module}:Storage"))
    with pytest.raises(
        StorageConfigError, match=r"'picky' refused .*: port must be a number"
    ) as caught:
        load_storage("picky://host:abc")
    assert isinstance(caught.value.__cause__, ValueError)


def test_third_party_plugin_gets_the_whole_url(monkeypatch, plugin_module):
    """An integrator's plugin is found by its scheme and built from the URL, untouched."""
    module = plugin_module(
        "seatkeeper_test_thirdparty",
        """
        from seatkeeper.plugins.memory import MemoryStorage

        class RecordingStorage(MemoryStorage):
            def __init__(self, url):
                super().__init__("memory://")
                self.url = url
        """,
    )
    use_entry_points(
        monkeypatch, ("myplugin", f"{module}:RecordingStorage"), ("other", "nowhere:Nothing")
    )
    url = "myplugin://user@host:1234/db?option=1#frag"
    storage = load_storage(url)
    assert storage.url == url and isinstance(storage, Storage)
    assert installed_plugins() == ["myplugin", "other"]


# -- what the loader's errors may show ------------------------------------------------------------


def test_a_refused_url_is_reported_without_its_password(monkeypatch, plugin_module):
    module = plugin_module(
        "refusing_plugin_xyz",
        """
        class Refuses:
            def __init__(self, url):
                raise ValueError(f"cannot use {url}")
        """,
    )
    use_entry_points(monkeypatch, ("secretdb", f"{module}:Refuses"))
    with pytest.raises(StorageConfigError) as caught:
        load_storage("secretdb://admin:hunter2@db.example:27017/app")
    message = str(caught.value)
    assert "hunter2" not in message
    assert "admin:***@db.example" in message


def test_a_plugin_that_builds_no_storage_is_refused(monkeypatch, plugin_module):
    module = plugin_module(
        "not_storage_xyz", "class NotStorage:\n    def __init__(self, url):\n        pass\n"
    )
    use_entry_points(monkeypatch, ("notstorage", f"{module}:NotStorage"))
    with pytest.raises(StorageConfigError, match="does not implement Storage"):
        load_storage("notstorage://")
