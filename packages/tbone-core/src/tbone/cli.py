"""The ``tbone`` command.

Each subcommand is a ``_cmd_<name>(args) -> int`` function and one ``add_parser`` call in
:func:`build_parser`; adding ``serve`` or ``routes`` later means adding one of each.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TextIO

from tbone import plugins
from tbone.errors import PluginError

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
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    plugins_cmd = commands.add_parser(
        "plugins",
        help="list the stores, channels and transports that are installed",
        description="List every plugin TBone can find, in lookup order.",
    )
    plugins_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    plugins_cmd.add_argument("--kind", choices=plugins.KINDS, help="only list plugins of this kind")
    plugins_cmd.add_argument(
        "--check",
        action="store_true",
        help="also import each plugin and report whether it loads (exit 1 if any does not)",
    )
    plugins_cmd.set_defaults(handler=_cmd_plugins)
    return parser


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
    cells = [[c.upper() for c in columns]]
    cells += [[row[c] or "-" for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.write("  ".join(padded).rstrip() + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
