"""``python -m tbone``: the ``tbone`` command, for when its script is not on PATH."""

from tbone.cli import main

if __name__ == "__main__":  # importing this module (docs tools, module walkers) runs nothing
    raise SystemExit(main())
