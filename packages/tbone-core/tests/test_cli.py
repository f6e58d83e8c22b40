"""`tbone plugins`, run in-process through main() and as a real subprocess."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tbone import plugins
from tbone.cli import main

GOOD = "class CouchStore:\n    tbone_plugin_api = 1\n"
BROKEN = "import tbone_driver_that_is_not_installed\n"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    plugins.clear_cache()
    yield
    plugins.clear_cache()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A sys.path entry holding two installed distributions: a working store and a broken one."""
    root = tmp_path / "site"
    for dist, module, source, ep_name in [
        ("tbone-couch", "tbone_cli_couch", GOOD, "couchdb"),
        ("tbone-broken", "tbone_cli_broken", BROKEN, "broken"),
    ]:
        dist_info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n"
        )
        (dist_info / "entry_points.txt").write_text(
            f"[tbone.backends]\n{ep_name} = {module}:CouchStore\n"
        )
        (root / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(root))
    plugins.clear_cache()
    yield root
    for module in ("tbone_cli_couch", "tbone_cli_broken"):
        sys.modules.pop(module, None)


def test_plugins_prints_an_aligned_table(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0]
    assert header.split() == ["KIND", "NAME", "DISTRIBUTION", "VERSION", "SOURCE", "TARGET"]
    couch = next(line for line in lines if "couchdb" in line)
    assert couch.split() == [
        "backend",
        "couchdb",
        "tbone-couch",
        "1.2.3",
        "entry",
        "point",
        "tbone_cli_couch:CouchStore",
    ]
    for column, value in [("DISTRIBUTION", "tbone-couch"), ("TARGET", "tbone_cli_couch:")]:
        assert couch.index(value) == header.index(column)
    memory = next(line for line in lines if line.split()[:2] == ["channel", "memory"])
    assert "tbone-core" in memory
    assert "builtin" in memory


def test_plugins_json_lists_every_field(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {
        "kind": "backend",
        "name": "couchdb",
        "target": "tbone_cli_couch:CouchStore",
        "distribution": "tbone-couch",
        "version": "1.2.3",
        "source": "entry point",
    } in rows
    assert [(r["kind"], r["name"]) for r in rows] == [(i.kind, i.name) for i in plugins.available()]


def test_plugins_kind_filters(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--kind", "channel", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows
    assert {r["kind"] for r in rows} == {"channel"}


def test_plugins_shows_registered_objects(capsys: pytest.CaptureFixture[str]) -> None:
    class FakeChannel:
        tbone_plugin_api = 1

    with plugins.register("channel", "fake", FakeChannel):
        assert main(["plugins", "--json", "--kind", "channel"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "fake"
    assert rows[0]["source"] == "registered"
    assert rows[0]["distribution"] is None


def test_plugins_check_reports_broken_plugins(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plugins", "--check", "--kind", "backend", "--json"]) == 1
    status = {r["name"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert status["couchdb"] == "ok"
    assert status["broken"].startswith("error: the store plugin 'broken'")
    assert "tbone-broken 1.2.3" in status["broken"]


def test_plugins_check_passes_when_everything_loads(capsys: pytest.CaptureFixture[str]) -> None:
    class FakeStore:
        tbone_plugin_api = 1

    with plugins.register("transport", "fake", FakeStore):
        assert main(["plugins", "--check", "--kind", "transport"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "STATUS"
    assert lines[1].split()[-1] == "ok"


def test_no_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: tbone" in capsys.readouterr().err


@pytest.mark.parametrize("word", ["store", "backend"])  # the docs' word, and the group's
def test_plugins_kind_store_lists_stores(
    site: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    assert main(["plugins", "--kind", word, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["kind"] for r in rows} == {"backend"}
    assert {"couchdb", "memory"} <= {r["name"] for r in rows}


def test_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plugins", "--kind", "database"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "'database'" in err
    assert "store, channel, transport" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"tbone {importlib.metadata.version('tbone-core')}\n"


@pytest.mark.parametrize("module", ["tbone", "tbone.cli"])
def test_python_m_tbone_runs_the_cli(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tbone ")


def test_python_m_tbone_cli_in_a_subprocess(site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-m", "tbone.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    names = {(r["kind"], r["name"], r["distribution"]) for r in rows}
    assert ("backend", "couchdb", "tbone-couch") in names
    assert ("backend", "broken", "tbone-broken") in names
    assert ("backend", "memory", "tbone-core") in names


def test_console_script_is_declared() -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts")
    tbone = [ep for ep in scripts if ep.name == "tbone"]
    assert [ep.value for ep in tbone] == ["tbone.cli:main"]
    assert tbone[0].load() is main
