"""TBone inside a Django project: ``/api`` (HTTP and WebSocket) is TBone, the rest is Django.

Private notes that only their Django user sees, signed in through Django (here: its admin login
page), over REST and live over the WebSocket. One ASGI application serves both; uvicorn runs it::

    python examples/asgi_django.py --port 8000 --data . --user demo:demo-password
    # then sign in at http://127.0.0.1:8000/admin/ and open http://127.0.0.1:8000/api/notes

``--data`` is the folder of the two SQLite files (Django's and TBone's); migrations run at
start, and ``--user NAME:PASSWORD`` creates a staff user when missing. In a project of your own
the last lines of :func:`build_application` are your ``asgi.py``.

Needs ``pip install django "uvicorn[standard]"`` and tbone-asgi, tbone-sqlite.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from tbone import API, Context, IsAuthenticated, Model, Q, Resource, field

HERE = Path(__file__).resolve().parent


class Note(Model):
    text: str = field(min_length=1, max_length=2000)
    owner: str = field(default="", read_only=True)


class NoteResource(Resource[Note]):
    """Each Django user reads, writes and hears about their own notes only."""

    model = Note
    name = "notes"
    permissions = (IsAuthenticated(),)

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user.get_username())

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user.get_username()


def build_application(data: str | os.PathLike[str] = HERE) -> Any:
    """The ASGI application (Django settings: examples/asgi_django_settings.py)."""
    os.environ.setdefault("TBONE_DJANGO_DATA", str(data))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asgi_django_settings")
    sys.path.insert(0, str(HERE))  # the settings and urls modules beside this file
    # -- what a project's asgi.py holds -----------------------------------------------------
    from django.core.asgi import get_asgi_application

    django_app = get_asgi_application()  # first: it sets Django up

    from tbone_asgi.django import DjangoSession, dispatcher

    db = Path(os.environ["TBONE_DJANGO_DATA"], "tbone.db").as_posix()
    api = API(prefix="/api", stores=f"sqlite:///{db}", authenticator=DjangoSession())
    api.register(NoteResource)
    return dispatcher(api, django_app)


def prepare(user: str | None) -> None:
    """Apply Django's migrations; create the staff user ``NAME:PASSWORD`` if missing."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if user:
        name, _, password = user.partition(":")
        model = get_user_model()
        if not model.objects.filter(username=name).exists():
            model.objects.create_user(name, password=password, is_staff=True)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data", default=".", help="folder of the SQLite files")
    parser.add_argument("--user", help="NAME:PASSWORD of a staff user to create")
    args = parser.parse_args()
    os.environ["TBONE_DJANGO_DATA"] = str(Path(args.data).resolve())
    application = build_application(args.data)
    prepare(args.user)
    print(f"Django + TBone on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
        uvicorn.run(application, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
