"""The ``kerazoo`` command line: one entry point, one module per group of verbs.

A command module defines ``add_parser(subparsers)``, which adds its verbs and sets ``run`` as the
parser default. Modules are imported when the parser is built, so they import Keras and TensorFlow
only inside ``run``: ``kerazoo --help``, ``kerazoo list`` and ``kerazoo info`` answer at once (see
``tests/test_cli_startup.py``).

Errors a user can fix end in one line on stderr and exit code 1; anything else keeps its traceback,
and ``--debug`` always shows one. TensorFlow's C++ log lines are dropped (``kerazoo.quiet``) unless
``--debug`` is given or ``TF_CPP_MIN_LOG_LEVEL`` is set.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from kerazoo import __version__
from kerazoo.errors import KerazooError
from kerazoo.quiet import quiet_stderr, should_filter

COMMAND_MODULES = ("kerazoo.cli.catalog", "kerazoo.cli.serve", "kerazoo.cli.recipes")

# Optional dependencies -> the extra that installs them: a missing one is a set-up step, not a bug.
OPTIONAL_MODULES = {
    "matplotlib": "plots",
    "tqdm": "progress",
    "jax": "jax",
    "torch": "torch",
}

# OSError numbers that describe the machine or the user's paths, not a kerazoo bug.
_USER_ERRNOS = {errno.ENOSPC, errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES, errno.EROFS,
                errno.EDQUOT}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kerazoo",
        description="Keras 3 plugins, a model zoo and task recipes.",
        epilog="Run `kerazoo COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"kerazoo {__version__}")
    parser.add_argument(
        "--debug", action="store_true",
        help="show full tracebacks, debug logging and TensorFlow's own log lines",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def known_error_message(error: BaseException) -> str | None:
    """The one line to print for an error a user can fix, or ``None`` for a bug (keep the traceback).

    Example:

    >>> known_error_message(FileNotFoundError(2, "No such file or directory", "x.yaml"))
    "No such file or directory: 'x.yaml'"
    >>> known_error_message(ZeroDivisionError("division by zero")) is None
    True
    """
    if isinstance(error, KerazooError):
        return str(error)
    if isinstance(error, ValueError) and "safe_mode" in str(error):
        # Keras refuses to deserialize a Lambda layer (Python bytecode) from a file it cannot trust.
        return (
            "the model contains a Lambda layer (Python bytecode), which Keras loads only with "
            "safe_mode=False; rebuild it from registered layers, or load it in Python with "
            "keras.saving.load_model(path, safe_mode=False) if you trust the file"
        )
    if isinstance(error, ModuleNotFoundError) and error.name:
        top = error.name.split(".")[0]
        if top in OPTIONAL_MODULES:
            return (f"this needs the optional package '{top}': "
                    f"pip install \"kerazoo[{OPTIONAL_MODULES[top]}]\"")
        return None
    if isinstance(error, OSError) and (error.filename is not None or error.errno in _USER_ERRNOS):
        reason = error.strerror or str(error)
        return f"{reason}: {error.filename!r}" if error.filename is not None else reason
    if type(error).__name__ == "ResourceExhaustedError" and type(error).__module__.startswith(
        "tensorflow"
    ):
        first = (getattr(error, "message", "") or str(error)).strip().splitlines()
        return "out of memory: " + (first[0] if first else "lower the batch size or model size")
    return None


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
    with quiet_stderr(enabled=should_filter(args.debug)):
        return _run(args)


def entry() -> None:
    """The ``kerazoo`` console command: :func:`main`, then exit with its code.

    After a command that imported TensorFlow, the process ends without the interpreter's
    teardown of TensorFlow (measured 2.6 s after a ``train``, against 0.17 s): every file kerazoo
    writes is already closed and renamed into place, so only stdio and logging are flushed.
    Python callers use :func:`main`, which returns.
    """
    code = main()
    if "tensorflow" in sys.modules:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("kerazoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `kerazoo list | head`: the reader left; say nothing, like other Unix tools.
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())
        return 0
    except Exception as error:
        message = known_error_message(error)
        if message is None:
            raise
        if args.debug:
            traceback.print_exc()
        print(f"kerazoo: error: {message}", file=sys.stderr)
        return 1
