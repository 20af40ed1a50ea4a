"""``python -m kerazoo`` is the ``kerazoo`` command."""

from kerazoo.cli import entry

if __name__ == "__main__":
    entry()
