"""``python -m kerazoo`` is the ``kerazoo`` command."""

from kerazoo.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
