"""The ``tbone`` command (also ``python -m tbone``): ``plugins``, ``serve``, ``routes``.

Each subcommand is a ``_cmd_<name>(args) -> int`` function and one ``add_parser`` call in
:func:`build_parser`. ``serve`` and ``routes`` take the API as ``module:attribute`` (like
uvicorn), where the module is a dotted name importable from the current directory or a path to
a ``.py`` file::

    tbone serve examples/bookstore.py:api --server aiohttp --port 8000
    tbone serve examples/bookstore.py:api --server uvicorn   # or hypercorn (tbone-asgi)
    tbone routes myproject.api:api
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import importlib.util
import inspect
import json
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tbone import __version__, plugins
from tbone.errors import PluginError

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tbone`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tbone", description="Full-duplex RESTful APIs for asyncio."
    )
    parser.add_argument("--version", action="version", version=f"tbone {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    plugins_cmd = commands.add_parser(
        "plugins",
        help="list the stores, channels and transports that are installed",
        description="List every plugin TBone can find, in lookup order.",
    )
    plugins_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    plugins_cmd.add_argument(
        "--kind",
        type=_kind,
        metavar="{store,channel,transport}",
        help="only list plugins of this kind ('backend' is another name for 'store')",
    )
    plugins_cmd.add_argument(
        "--check",
        action="store_true",
        help="also import each plugin and report whether it loads (exit 1 if any does not)",
    )
    plugins_cmd.set_defaults(handler=_cmd_plugins)

    serve_cmd = commands.add_parser(
        "serve",
        help="serve an API over HTTP and WebSocket",
        description="Import the API and serve it with a transport until interrupted (Ctrl-C).",
    )
    serve_cmd.add_argument("target", help=_TARGET_HELP)
    serve_cmd.add_argument(
        "--server",
        help="transport to serve with, or a server a transport runs (uvicorn, hypercorn: the "
        "asgi transport); default: the first installed transport, by name",
    )
    serve_cmd.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve_cmd.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    serve_cmd.set_defaults(handler=_cmd_serve)

    routes_cmd = commands.add_parser(
        "routes",
        help="list every route an API serves",
        description="Print each method and path the API answers, with its resource and action.",
    )
    routes_cmd.add_argument("target", help=_TARGET_HELP)
    routes_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    routes_cmd.set_defaults(handler=_cmd_routes)
    return parser


def _kind(word: str) -> plugins.Kind:
    # Stores are published in the ``tbone.backends`` group, so their kind is "backend".
    for kind in plugins.KINDS:
        if word in (kind, _KIND_WORDS.get(kind)):
            return kind
    raise argparse.ArgumentTypeError(
        f"unknown kind {word!r}; choose from store, channel, transport"
    )


_KIND_WORDS: dict[str, str] = {"backend": "store"}

_TARGET_HELP = (
    "the API as MODULE:ATTRIBUTE, e.g. myapp.api:api or examples/bookstore.py:api "
    "(ATTRIBUTE defaults to 'api'; a function is called to make the API)"
)


class TargetError(Exception):
    """The ``module:attribute`` given on the command line does not name an API."""


def load_api(target: str) -> API:
    """The :class:`tbone.API` named by ``module:attribute`` (or ``path/to/file.py:attribute``)."""
    from tbone.api import API

    module_name, _, attr = target.partition(":")
    attr = attr or "api"
    module = _import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"{module_name!r} has no attribute {attr!r}") from None
    if inspect.isfunction(obj):  # a factory: ``module:create_api``
        obj = obj()
    if not isinstance(obj, API):
        raise TargetError(f"{target!r} is a {type(obj).__name__}, not a tbone.API")
    return obj


def _import_module(name: str) -> Any:
    if name.endswith(".py") or "/" in name or "\\" in name:
        path = Path(name)
        if not path.is_file():
            raise TargetError(f"no such file: {name}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise TargetError(f"cannot import {name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # so that pickling and dataclasses find it
        sys.path.insert(0, str(path.resolve().parent))  # its sibling imports work
        spec.loader.exec_module(module)
        return module
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # like python -m: modules in the current directory
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise TargetError(
                f"cannot import {name!r}: no module named {exc.name!r} "
                "(run from the directory that holds it, or give a path to the .py file)"
            ) from None
        raise


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        api = load_api(args.target)
        transport = _transport(args.server)
    except (TargetError, PluginError) as exc:
        sys.stderr.write(f"tbone serve: {exc}\n")
        return 2
    problem = _cannot_listen(args.host, args.port)
    if problem is not None:
        sys.stderr.write(f"tbone serve: {problem}\n")
        return 1
    url = f"http://{_url_host(args.host)}:{args.port}{api.prefix}"
    server = getattr(transport, "server", None)  # asgi: uvicorn or hypercorn
    using = f"{transport.name} ({server})" if isinstance(server, str) else transport.name
    sys.stdout.write(f"serving {api.title} on {url} with {using} (Ctrl-C stops)\n")
    sys.stdout.flush()
    # A transport that lets Ctrl-C through as KeyboardInterrupt has still stopped cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        try:
            transport.serve(api, host=args.host, port=args.port)
        except OSError as exc:  # taken between our check and the server's own bind
            if exc.errno not in _LISTEN_ERRORS:
                raise
            sys.stderr.write(f"tbone serve: {_listen_problem(args.host, args.port, exc)}\n")
            return 1
    return 0


_LISTEN_ERRORS: frozenset[int] = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


def _cannot_listen(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, in one line with the fix; ``None`` if it can.

    Checked before the banner, so that a busy port is one clear line, not a banner and then a
    traceback from deep inside the server.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot listen on {host}:{port}: {exc}; check --host"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
        try:
            probe.bind(address)
        except OSError as exc:
            return _listen_problem(host, port, exc)
    return None


def _listen_problem(host: str, port: int, exc: OSError) -> str:
    where = f"{_url_host(host)}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where} is already in use (is another server running?); choose another with --port"
    if exc.errno == errno.EACCES:
        return f"{where} needs privileges to listen on; choose a port above 1023 with --port"
    return f"cannot listen on {where}: {exc.strerror or exc}; check --host and --port"


def _transport(name: str | None) -> Any:
    if name is None:
        names = sorted(info.name for info in plugins.available("transport"))
        if not names:
            raise PluginError(
                "no transport is installed. Install one with: "
                'pip install "tbone-core[aiohttp]" or pip install "tbone-core[sanic]"'
            )
        name = names[0]
    try:
        return plugins.load("transport", name)()
    except PluginError:
        # a server run by a transport (``--server uvicorn``: the asgi transport's servers)
        for info in plugins.available("transport"):
            candidate = plugins.load("transport", info.name)
            if name in getattr(candidate, "servers", ()):
                return candidate(server=name)
        raise


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _cmd_routes(args: argparse.Namespace) -> int:
    try:
        api = load_api(args.target)
    except TargetError as exc:
        sys.stderr.write(f"tbone routes: {exc}\n")
        return 2
    rows = list(routes(api))
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        table = [{k: v or None for k, v in row.items()} for row in rows]
        _write_table(table, ("method", "path", "resource", "action"), sys.stdout)
    return 0


def routes(api: API) -> Iterator[dict[str, str]]:
    """Every (method, path, resource, action) the API answers, in the order it routes them."""
    from tbone.api import WEBSOCKET_PATH
    from tbone.http.handler import _COLLECTION_METHODS, _ITEM_METHODS
    from tbone.realtime.fallback import STREAM_PATH

    prefix = api.prefix
    yield _route("GET", prefix or "/", "", "index")
    for extra in sorted(api.http.extras):
        yield _route("GET", f"{prefix}/{extra}", "", extra)
    yield _route("GET", f"{prefix}/{WEBSOCKET_PATH}", "", "websocket (tbone.v1)")
    stream = f"{prefix}/{STREAM_PATH}"
    yield _route("GET", stream, "", "fallback stream (tbone.v1 over SSE)")
    yield _route("GET,POST,DELETE", f"{stream}/{{session}}", "", "fallback session")
    for name, resource in api.resources.items():
        for table, path, detail in (
            (_COLLECTION_METHODS, f"{prefix}/{name}", False),
            (_ITEM_METHODS, f"{prefix}/{name}/{{{resource.pk}}}", True),
        ):
            for action, methods in table.items():
                if action in resource.actions:
                    yield _route(",".join(methods), path, name, action)
            # a collection action's segment is matched before a primary key
            for spec in resource.custom_actions.values():
                if spec.detail == detail:
                    verbs = ",".join(spec.http_methods)
                    yield _route(verbs, f"{path}/{spec.name}", name, f"{spec.name} (action)")


def _route(method: str, path: str, resource: str, action: str) -> dict[str, str]:
    return {"method": method, "path": path, "resource": resource, "action": action}


def _cmd_plugins(args: argparse.Namespace) -> int:
    rows: list[dict[str, str | None]] = []
    failed = False
    for info in plugins.available(args.kind):
        row: dict[str, str | None] = dict(asdict(info))
        if args.check:
            row["status"] = _load_status(info)
            failed = failed or row["status"] != "ok"
        rows.append(row)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(rows, check=args.check, out=sys.stdout)
    return 1 if failed else 0


def _load_status(info: plugins.PluginInfo) -> str:
    try:
        plugins.load(info.kind, info.name)
    except PluginError as exc:
        return f"error: {exc}"
    return "ok"


_COLUMNS = ("kind", "name", "distribution", "version", "source", "target")


def _print_table(rows: list[dict[str, str | None]], *, check: bool, out: TextIO) -> None:
    if not rows:
        out.write("no plugins found\n")
        return
    columns = (*_COLUMNS, "status") if check else _COLUMNS
    _write_table(rows, columns, out)


def _write_table(
    rows: Sequence[dict[str, str | None]], columns: Sequence[str], out: TextIO
) -> None:
    cells = [[c.upper() for c in columns]]
    cells += [[row[c] or "-" for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.write("  ".join(padded).rstrip() + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
