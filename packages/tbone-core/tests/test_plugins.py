"""The plugin registry, exercised with real distributions written to a temporary sys.path entry."""

from __future__ import annotations

import importlib.metadata
import itertools
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tbone import plugins
from tbone.errors import IncompatiblePlugin, PluginError, PluginNotFound

_counter = itertools.count()

# make_dist(name, version, entry_points={"tbone.backends": {"couch": "CouchStore"}}, source=...)
MakeDist = Callable[..., str]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    plugins.clear_cache()
    yield
    plugins.clear_cache()


@pytest.fixture
def make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeDist]:
    """Write an installed distribution (``*.dist-info`` + one module) and put it on sys.path.

    Entry-point values name attributes of the distribution's module; returns the module name.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def make(
        name: str,
        version: str,
        entry_points: dict[str, dict[str, str]],
        source: str = "",
    ) -> str:
        module = f"tbone_fake_plugin_{next(_counter)}"
        modules.append(module)
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        lines = []
        for group, names in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{ep} = {module}:{attr}" for ep, attr in names.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        plugins.clear_cache()
        return module

    yield make
    for module in modules:
        sys.modules.pop(module, None)


COUCH = """
    class CouchStore:
        tbone_plugin_api = 1
"""


def _uninstall(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Hide the installed entry points called ``name``, as if their package were absent."""
    real = importlib.metadata.entry_points

    def without(**kwargs: str) -> object:
        found = real(**kwargs)
        return [ep for ep in found if ep.name != name]

    monkeypatch.setattr(importlib.metadata, "entry_points", without)
    plugins.clear_cache()


def _installed(kind: plugins.Kind) -> str:
    return ", ".join(sorted({info.name for info in plugins.available(kind)}))


# -- scheme_of --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("memory://", "memory"),
        ("sqlite:///books.db", "sqlite"),
        ("mongodb+srv://user:pw@cluster.example/db?x=1", "mongodb+srv"),
        ("REDIS://localhost:6379/0", "redis"),
        ("rediss://h", "rediss"),
    ],
)
def test_scheme_of_parses_the_scheme(url: str, scheme: str) -> None:
    assert plugins.scheme_of(url) == scheme


@pytest.mark.parametrize(
    "url", ["", "books.db", "sqlite:books.db", "://host", "1db://x", "my db://"]
)
def test_scheme_of_rejects_malformed_urls(url: str) -> None:
    with pytest.raises(PluginError, match=r"malformed URL .*expected 'scheme://\.\.\.'"):
        plugins.scheme_of(url)


# -- registration -----------------------------------------------------------------------------


class FakeStore:
    tbone_plugin_api = 1


class OtherStore:
    tbone_plugin_api = 1


def test_registered_object_is_loaded_and_undone_by_the_context_manager() -> None:
    with plugins.register("backend", "fake", FakeStore) as handle:
        assert plugins.load("backend", "fake") is FakeStore
        assert handle.obj is FakeStore
        info = next(i for i in plugins.available("backend") if i.name == "fake")
        assert info.source == "registered"
        assert info.distribution is None
        assert info.target.endswith(":FakeStore")
    with pytest.raises(PluginNotFound):
        plugins.load("backend", "fake")
    assert "fake" not in {i.name for i in plugins.available("backend")}


def test_nested_registrations_shadow_and_restore() -> None:
    outer = plugins.register("channel", "fake", FakeStore)
    try:
        with plugins.register("channel", "fake", OtherStore):
            assert plugins.load("channel", "fake") is OtherStore
        assert plugins.load("channel", "fake") is FakeStore
    finally:
        outer.undo()
    outer.undo()  # undoing twice is harmless
    with pytest.raises(PluginNotFound):
        plugins.load("channel", "fake")


def test_registration_is_per_kind() -> None:
    with plugins.register("backend", "fake", FakeStore), pytest.raises(PluginNotFound):
        plugins.load("channel", "fake")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown plugin kind 'store'"):
        plugins.load("store", "memory")  # type: ignore[arg-type]  # the mistake under test


# -- lookup order -----------------------------------------------------------------------------


def test_builtins_are_listed_without_being_imported() -> None:
    # `import tbone` loads core itself; what must stay unloaded is every plugin's own module.
    code = (
        "import sys, tbone.plugins as p\n"
        "infos = p.available()\n"
        "print([m for m in sys.modules if m.startswith('tbone_')])\n"
        "print([(i.kind, i.name, i.target, i.source) for i in infos if i.source == 'builtin'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == str(
        [
            ("backend", "memory", "tbone.storage.memory:MemoryStore", "builtin"),
            ("channel", "memory", "tbone.channel.memory:MemoryChannel", "builtin"),
        ]
    )


def test_importing_the_module_scans_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "import importlib.metadata as md\n"
        "calls = []\n"
        "real = md.entry_points\n"
        "md.entry_points = lambda **kw: calls.append(kw) or real(**kw)\n"
        "import tbone.plugins\n"
        "print(len(calls))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == "0"


def test_registered_beats_builtin() -> None:
    with plugins.register("backend", "memory", FakeStore):
        assert plugins.load("backend", "memory") is FakeStore
        sources = [i.source for i in plugins.available("backend") if i.name == "memory"]
        assert sources[0] == "registered"
        assert "builtin" in sources


def test_builtin_beats_entry_point(make_dist: MakeDist, monkeypatch: pytest.MonkeyPatch) -> None:
    builtin = make_dist("tbone-fake-core", "1.0", {}, "class Builtin:\n    tbone_plugin_api = 1\n")
    monkeypatch.setitem(plugins._BUILTINS["backend"], "shadowed", f"{builtin}:Builtin")
    make_dist("tbone-shadow", "2.0", {"tbone.backends": {"shadowed": "CouchStore"}}, COUCH)
    loaded = plugins.load("backend", "shadowed")
    assert loaded.__name__ == "Builtin"
    infos = [i for i in plugins.available("backend") if i.name == "shadowed"]
    assert [(i.source, i.distribution) for i in infos] == [
        ("builtin", "tbone-core"),
        ("entry point", "tbone-shadow"),
    ]


def test_registered_beats_entry_point(make_dist: MakeDist) -> None:
    make_dist("tbone-couch", "1.2.3", {"tbone.backends": {"couch": "CouchStore"}}, COUCH)
    with plugins.register("backend", "couch", FakeStore):
        assert plugins.load("backend", "couch") is FakeStore
    assert plugins.load("backend", "couch").__name__ == "CouchStore"


# -- entry points -----------------------------------------------------------------------------


def test_entry_point_is_discovered_with_its_distribution(make_dist: MakeDist) -> None:
    module = make_dist(
        "tbone-couch",
        "1.2.3",
        {"tbone.backends": {"couchdb": "CouchStore"}, "tbone.channels": {"couchdb": "CouchStore"}},
        COUCH,
    )
    store = plugins.load("backend", "couchdb")
    assert store is sys.modules[module].CouchStore
    assert plugins.load("channel", "couchdb") is store
    assert plugins.PluginInfo(
        kind="backend",
        name="couchdb",
        target=f"{module}:CouchStore",
        distribution="tbone-couch",
        version="1.2.3",
        source="entry point",
    ) in plugins.available("backend")
    assert [i.kind for i in plugins.available() if i.name == "couchdb"] == ["backend", "channel"]


def test_available_does_not_import_entry_points(make_dist: MakeDist) -> None:
    module = make_dist("tbone-couch", "1.0", {"tbone.transports": {"couch": "CouchStore"}}, COUCH)
    assert "couch" in [i.name for i in plugins.available("transport")]
    assert module not in sys.modules


def test_entry_points_are_scanned_once_and_cached(
    make_dist: MakeDist, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = importlib.metadata.entry_points

    def counting(**kwargs: str) -> object:
        calls.append(kwargs["group"])
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    make_dist("tbone-couch", "1.0", {"tbone.backends": {"couch": "CouchStore"}}, COUCH)
    first = plugins.load("backend", "couch")
    assert plugins.load("backend", "couch") is first
    plugins.available()
    with pytest.raises(PluginNotFound):
        plugins.load("backend", "nothing")
    assert sorted(calls) == ["tbone.backends", "tbone.channels", "tbone.transports"]


def test_a_distribution_installed_later_is_seen_after_clear_cache(
    make_dist: MakeDist, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins.available()  # scan now, before the distribution exists
    late_site = tmp_path / "late"
    late_site.mkdir()
    monkeypatch.syspath_prepend(str(late_site))
    (late_site / "tbone_late_plugin.py").write_text(textwrap.dedent(COUCH))
    dist_info = late_site / "tbone_late-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: tbone-late\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[tbone.backends]\nlate = tbone_late_plugin:CouchStore\n"
    )
    try:
        with pytest.raises(PluginNotFound):
            plugins.load("backend", "late")
        plugins.clear_cache()
        assert plugins.load("backend", "late").__name__ == "CouchStore"
    finally:
        sys.modules.pop("tbone_late_plugin", None)


def test_two_distributions_claiming_one_name_is_an_error(make_dist: MakeDist) -> None:
    make_dist("tbone-couch-a", "1.0", {"tbone.backends": {"couch": "CouchStore"}}, COUCH)
    make_dist("tbone-couch-b", "2.0", {"tbone.backends": {"couch": "CouchStore"}}, COUCH)
    with pytest.raises(PluginError, match="several distributions") as info:
        plugins.load("backend", "couch")
    assert "tbone-couch-a 1.0" in str(info.value)
    assert "tbone-couch-b 2.0" in str(info.value)
    assert "register()" in str(info.value)


# -- missing plugins --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "extra"),
    [
        ("backend", "mongodb", "mongo"),
        ("backend", "mongodb+srv", "mongo"),
        ("backend", "sqlite", "sqlite"),
        ("backend", "redis", "redis"),
        ("channel", "rediss", "redis"),
    ],
)
def test_missing_known_scheme_names_the_extra(
    kind: plugins.Kind, name: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _uninstall(monkeypatch, name)  # the workspace installs tbone-sqlite and tbone-redis
    with pytest.raises(PluginNotFound) as info:
        plugins.load(kind, name)
    noun = "store" if kind == "backend" else "channel"
    assert str(info.value) == (
        f"no {noun} for '{name}://'; installed: {_installed(kind)}. "
        f'Install it with: pip install "tbone-core[{extra}]"'
    )
    assert isinstance(info.value, LookupError)


def test_missing_store_message_lists_what_is_installed(
    make_dist: MakeDist, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist("tbone-couch", "1.0", {"tbone.backends": {"couchdb": "CouchStore"}}, COUCH)
    _uninstall(monkeypatch, "mongodb")  # tbone-mongo may be installed: pretend it is not
    with plugins.register("backend", "fake", FakeStore), pytest.raises(PluginNotFound) as info:
        plugins.load("backend", "mongodb")
    message = str(info.value)
    assert message.startswith("no store for 'mongodb://'; installed: ")
    installed = message.split("installed: ")[1].split(". Install")[0].split(", ")
    assert {"couchdb", "fake", "memory"} <= set(installed)
    assert installed == sorted(installed)


def test_missing_unknown_scheme_gets_a_generic_hint() -> None:
    with pytest.raises(PluginNotFound) as info:
        plugins.load("backend", "cassandra")
    assert str(info.value) == (
        f"no store for 'cassandra://'; installed: {_installed('backend')}. Install a package "
        "that provides a 'tbone.backends' entry point named 'cassandra' "
        "(run `tbone plugins` to list what is installed)."
    )


def test_missing_transport_is_named_not_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    _uninstall(monkeypatch, "sanic")
    with pytest.raises(PluginNotFound, match=r"^no transport named 'sanic'; installed: .*\.") as e:
        plugins.load("transport", "sanic")
    assert str(e.value).endswith('Install it with: pip install "tbone-core[sanic]"')


# -- compatibility ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        (
            "tbone_plugin_api = 2",
            "was written for plugin API 2, but tbone-core {core} speaks plugin API 1. "
            "Upgrade tbone-core (pip install -U tbone-core), or install an older tbone-couch.",
        ),
        (
            "tbone_plugin_api = 0",
            "was written for plugin API 0, but tbone-core {core} speaks plugin API 1. "
            "Upgrade tbone-couch (pip install -U tbone-couch).",
        ),
        (
            "tbone_plugin_api = '1'",
            "was written for plugin API '1', but tbone-core {core} speaks plugin API 1.",
        ),
        (
            "pass",
            "does not declare tbone_plugin_api; tbone-core {core} speaks plugin API 1. "
            "Upgrade tbone-couch to a release written for tbone-core, "
            "or add `tbone_plugin_api = 1` to the class if you maintain it.",
        ),
    ],
)
def test_incompatible_plugin_is_refused_with_what_to_do(
    make_dist: MakeDist, declaration: str, expected: str
) -> None:
    module = make_dist(
        "tbone-couch",
        "1.2.3",
        {"tbone.backends": {"couchdb": "CouchStore"}},
        f"class CouchStore:\n    {declaration}\n",
    )
    with pytest.raises(IncompatiblePlugin) as info:
        plugins.load("backend", "couchdb")
    core = importlib.metadata.version("tbone-core")
    prefix = f"the store plugin 'couchdb' ({module}:CouchStore) from tbone-couch 1.2.3 "
    assert str(info.value).startswith(prefix)
    assert expected.format(core=core) in str(info.value)


def test_incompatible_registration_is_refused() -> None:
    with (
        plugins.register("backend", "bare", object()),
        pytest.raises(IncompatiblePlugin, match="from a run-time registration does not declare"),
    ):
        plugins.load("backend", "bare")


def test_plugin_api_is_an_integer_major() -> None:
    assert plugins.PLUGIN_API == 1
    assert type(plugins.PLUGIN_API) is int


# -- broken plugins ---------------------------------------------------------------------------


def test_broken_entry_point_names_distribution_and_cause(make_dist: MakeDist) -> None:
    module = make_dist(
        "tbone-broken",
        "0.0.1",
        {"tbone.backends": {"broken": "BrokenStore"}},
        "import tbone_driver_that_is_not_installed\n",
    )
    with pytest.raises(PluginError) as info:
        plugins.load("backend", "broken")
    assert type(info.value) is PluginError
    assert isinstance(info.value.__cause__, ImportError)
    assert str(info.value) == (
        f"the store plugin 'broken' ({module}:BrokenStore) from tbone-broken 0.0.1 failed to "
        "import: ModuleNotFoundError: No module named 'tbone_driver_that_is_not_installed'. "
        "Reinstall or upgrade tbone-broken, or uninstall it if you do not use it."
    )


def test_entry_point_naming_a_missing_attribute_is_a_plugin_error(make_dist: MakeDist) -> None:
    make_dist("tbone-typo", "1.0", {"tbone.channels": {"typo": "Chanel"}}, COUCH)
    with pytest.raises(PluginError, match=r"from tbone-typo 1\.0 failed to import: AttributeError"):
        plugins.load("channel", "typo")


def test_a_broken_plugin_does_not_hide_the_others(make_dist: MakeDist) -> None:
    make_dist("tbone-broken", "0.0.1", {"tbone.backends": {"broken": "X"}}, "raise ImportError\n")
    make_dist("tbone-couch", "1.0", {"tbone.backends": {"couchdb": "CouchStore"}}, COUCH)
    with pytest.raises(PluginError):
        plugins.load("backend", "broken")
    assert plugins.load("backend", "couchdb").__name__ == "CouchStore"
    assert {"broken", "couchdb"} <= {i.name for i in plugins.available("backend")}
