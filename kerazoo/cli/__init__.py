"""The ``kerazoo`` command line: one entry point, one module per group of verbs.

A command module defines ``add_parser(subparsers)``, which adds its verbs and sets ``run`` as the
parser default. Modules are imported when the parser is built, so they import Keras and TensorFlow
only inside ``run``: ``kerazoo --help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from kerazoo import __version__
from kerazoo.errors import KerazooError

COMMAND_MODULES = ("kerazoo.cli.catalog", "kerazoo.cli.serve", "kerazoo.cli.recipes")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerazoo",
        description="Keras 3 plugins, a model zoo and task recipes.",
        epilog="Run `kerazoo COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"kerazoo {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks and debug logging"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 1 user error, 2 usage, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.debug:
        # TensorFlow's own INFO lines (tf.data sharding, SavedModel assets) drown kerazoo's.
        for noisy in ("absl", "tensorflow", "matplotlib", "PIL", "h5py"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.run(args) or 0)
    except KerazooError as error:
        if args.debug:
            traceback.print_exc()
        print(f"kerazoo: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kerazoo: interrupted", file=sys.stderr)
        return 130
