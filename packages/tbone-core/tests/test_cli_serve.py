"""`tbone routes` and `tbone serve`, in-process, on APIs written to files as users write them.

Real servers started by `tbone serve` are tested in tests/test_bookstore.py (they need a transport).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tbone import API, plugins
from tbone.cli import load_api, main

APP = """
from tbone import API, Model, Resource, field

class Book(Model):
    title: str = field(min_length=1)

class BookResource(Resource[Book]):
    model = Book
    name = "books"

class Tag(Model):
    label: str = field(primary_key=True)

class TagResource(Resource[Tag]):
    model = Tag
    name = "tags"
    actions = ("list", "detail")

api = API(prefix="/v1")
api.register(BookResource)
api.register(TagResource)

def create_api():
    return API(prefix="/made")

not_an_api = 42
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The current directory, holding ``cliapp.py`` (the API above); sys.path is restored."""
    (tmp_path / "cliapp.py").write_text(textwrap.dedent(APP))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "cliapp", raising=False)
    yield tmp_path
    sys.modules.pop("cliapp", None)


def table(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_routes_prints_every_route_with_its_resource_and_action(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routes", "cliapp:api"]) == 0
    assert table(capsys.readouterr().out) == [
        ["METHOD", "PATH", "RESOURCE", "ACTION"],
        ["GET", "/v1", "-", "index"],
        ["GET", "/v1/openapi.json", "-", "openapi.json"],
        ["GET", "/v1/tbone.js", "-", "tbone.js"],
        ["GET", "/v1/ws", "-", "websocket", "(tbone.v1)"],
        ["GET", "/v1/_stream", "-", "fallback", "stream", "(tbone.v1", "over", "SSE)"],
        ["GET,POST,DELETE", "/v1/_stream/{session}", "-", "fallback", "session"],
        ["GET,HEAD", "/v1/books", "books", "list"],
        ["POST", "/v1/books", "books", "create"],
        ["GET,HEAD", "/v1/books/{id}", "books", "detail"],
        ["PUT", "/v1/books/{id}", "books", "replace"],
        ["PATCH", "/v1/books/{id}", "books", "update"],
        ["DELETE", "/v1/books/{id}", "books", "delete"],
        ["GET,HEAD", "/v1/tags", "tags", "list"],
        ["GET,HEAD", "/v1/tags/{label}", "tags", "detail"],
    ]


def test_routes_json_and_a_file_path_target(
    app_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routes", str(app_dir / "cliapp.py") + ":api", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"method": "POST", "path": "/v1/books", "resource": "books", "action": "create"} in rows
    assert {"method": "GET", "path": "/v1", "resource": "", "action": "index"} in rows
    assert not any(row["resource"] == "tags" and row["action"] == "create" for row in rows)


def test_a_function_is_called_to_make_the_api_and_the_attribute_defaults_to_api(
    app_dir: Path,
) -> None:
    assert load_api("cliapp:create_api").prefix == "/made"
    assert load_api("cliapp").prefix == "/v1"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("cliapp:missing", "'cliapp' has no attribute 'missing'"),
        ("cliapp:not_an_api", "'cliapp:not_an_api' is a int, not a tbone.API"),
        ("cliapp:BookResource", "is a type, not a tbone.API"),
        ("no_such_module_here:api", "no module named 'no_such_module_here'"),
        ("nowhere/app.py:api", "no such file: nowhere/app.py"),
    ],
)
@pytest.mark.parametrize("command", ["routes", "serve"])
def test_a_bad_target_is_one_line_and_exit_code_2(
    app_dir: Path, capsys: pytest.CaptureFixture[str], command: str, target: str, message: str
) -> None:
    assert main([command, target]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tbone {command}: ")
    assert message in err
    assert len(err.splitlines()) == 1


class FakeTransport:
    tbone_plugin_api = 1
    name = "0fake"  # sorts before every real transport: the default when none is named
    served: ClassVar[list[tuple[API, dict[str, Any]]]] = []

    @classmethod
    def can_mount(cls, app: object) -> bool:
        return False

    def serve(self, api: API, **kwargs: Any) -> None:
        self.served.append((api, kwargs))
        raise KeyboardInterrupt  # what Ctrl-C looks like to a transport that lets it through


@pytest.fixture
def fake_transport() -> Iterator[type[FakeTransport]]:
    FakeTransport.served.clear()
    with plugins.register("transport", FakeTransport.name, FakeTransport):
        yield FakeTransport


def test_serve_hands_the_api_host_and_port_to_the_named_transport(
    app_dir: Path, fake_transport: type[FakeTransport], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "cliapp:api", "--server", "0fake", "--host", "::1", "--port", "9"]) == 0
    ((api, kwargs),) = fake_transport.served
    assert api.prefix == "/v1"
    assert kwargs == {"host": "::1", "port": 9}
    assert (
        capsys.readouterr().out
        == "serving TBone API on http://[::1]:9/v1 with 0fake (Ctrl-C stops)\n"
    )


def test_serve_defaults_to_the_first_installed_transport_on_port_8000(
    app_dir: Path, fake_transport: type[FakeTransport]
) -> None:
    assert main(["serve", "cliapp:api"]) == 0
    assert fake_transport.served[0][1] == {"host": "127.0.0.1", "port": 8000}


def test_serve_with_an_unknown_server_names_what_is_installed(
    app_dir: Path, fake_transport: type[FakeTransport], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "cliapp:api", "--server", "tornado"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tbone serve: ")
    assert "tornado" in err
    assert "0fake" in err


@pytest.mark.parametrize("server", ["aiohttp", "sanic"])
def test_a_busy_port_is_one_line_naming_the_fix(app_dir: Path, server: str) -> None:
    pytest.importorskip(f"tbone_{server}")
    with socket.socket() as busy:  # a real server already listening on the port
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tbone",
                "serve",
                "cliapp:api",
                "--server",
                server,
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # no "serving ..." banner for a server that never served
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"tbone serve: 127.0.0.1:{port} is already in use")
    assert "--port" in result.stderr


def test_a_host_that_cannot_be_listened_on_is_one_line(
    app_dir: Path, fake_transport: type[FakeTransport], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "cliapp:api", "--host", "no-such-host.invalid"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tbone serve: cannot listen on no-such-host.invalid:8000")
    assert "--host" in err
    assert len(err.splitlines()) == 1
    assert not fake_transport.served
