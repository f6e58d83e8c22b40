"""The command line the ASGI examples share: ``--host``, ``--port``, ``--db``, then uvicorn."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from typing import Any


def serve(build_app: Callable[[str], Any], *, description: str, host_name: str, path: str) -> None:
    """Parse the command line, build the application on ``--db`` and run it under uvicorn."""
    import uvicorn

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="bookstore.db")
    args = parser.parse_args()
    url = f"http://{args.host}:{args.port}{path}"
    print(f"{host_name} + TBone on {url} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
        uvicorn.run(build_app(args.db), host=args.host, port=args.port, log_level="warning")
