"""Keep TensorFlow's C++ log lines off the ``kerazoo`` command's stderr.

TensorFlow 2.21 writes absl lines (``WARNING: All log messages before absl::InitializeLog() ...``,
``I0000 ... port.cc:153] oneDNN custom operations are on ...``) to file descriptor 2 when it is
imported, *before* it reads ``TF_CPP_MIN_LOG_LEVEL``, and tf.data adds ``generator_dataset_op.cc`` /
``dataset.cc`` lines later, while training. Python's ``logging`` and ``sys.stderr`` never see them,
and ``TF_ENABLE_ONEDNN_OPTS=0`` silences the first ones only by turning oneDNN's faster CPU kernels
off. So the CLI puts a pipe in front of descriptor 2 for the life of a command: a thread reads it and
writes every line that is not a TensorFlow/absl log record to the real stderr, unchanged.

Example:

>>> is_tf_log_line("I0000 00:00:1796215726.540356    6200 port.cc:153] oneDNN custom operations")
True
>>> is_tf_log_line("kerazoo: error: Unknown model 'x'.")
False
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

# The two shapes of a TensorFlow/XLA C++ log record: absl's `I1202 12:00:00.123456  6200 file.cc:153]`
# (TF >= 2.16; `I0000 00:00:<epoch>` before absl is initialised) and TF's older
# `2026-12-02 12:00:00.123456: I tensorflow/core/file.cc:153] ...`.
_RECORD = re.compile(
    r"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWE] \S+:\d+\])"
)
# Lines that belong to such records without their prefix.
_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called",
    "To enable the following instructions:",  # second line of cpu_feature_guard.cc's record
)


def is_tf_log_line(line: str) -> bool:
    """Whether ``line`` is a TensorFlow/absl C++ log line (not something a user should see)."""
    return bool(_RECORD.match(line)) or line.startswith(_NOISE)


def should_filter(debug: bool = False, environ: dict[str, str] | None = None) -> bool:
    """Filter unless ``--debug`` was given or the user chose a TF log level themselves."""
    environ = os.environ if environ is None else environ
    return not debug and "TF_CPP_MIN_LOG_LEVEL" not in environ


class _StderrFilter:
    """Descriptor 2 -> pipe -> thread -> the original descriptor 2, minus TF log lines."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._read_fd = read_fd
        self._thread = threading.Thread(target=self._pump, name="kerazoo-stderr", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        pending = b""
        with os.fdopen(self._read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                pending += chunk
                pending = self._emit_complete_lines(pending)
            if pending:
                self._write_kept([pending])

    def _emit_complete_lines(self, data: bytes) -> bytes:
        # "\r" ends a line too, so a progress bar redrawn in place is passed on as it is drawn.
        parts = re.split(rb"(?<=[\n\r])", data)
        rest = parts.pop() if parts and not parts[-1].endswith((b"\n", b"\r")) else b""
        self._write_kept(parts)
        if rest and not _could_become_tf_line(rest):
            self._write_kept([rest])
            rest = b""
        return rest

    def _write_kept(self, lines: list[bytes]) -> None:
        kept = b"".join(
            line for line in lines
            if line and not is_tf_log_line(line.decode("utf-8", "replace"))
        )
        if kept:
            with contextlib.suppress(OSError):
                os.write(self._saved_fd, kept)

    def close(self) -> None:
        sys.stderr.flush()
        # Point descriptor 2 back at the terminal; the pipe's last writer closes, the thread drains.
        os.dup2(self._saved_fd, 2)
        self._thread.join(timeout=5)
        # A child process that outlives the command still holds the pipe: the thread keeps
        # forwarding its lines, so its descriptor must stay open (closing it could let a later
        # open() reuse the number and receive them).
        if not self._thread.is_alive():
            os.close(self._saved_fd)


def _could_become_tf_line(fragment: bytes) -> bool:
    """Whether an unfinished line may still turn out to be a TF record (hold it back until it ends)."""
    text = fragment.decode("utf-8", "replace")
    return bool(re.match(r"^[IWE0-9]", text)) or any(
        noise.startswith(text) or text.startswith(noise) for noise in _NOISE
    )


@contextlib.contextmanager
def quiet_stderr(enabled: bool = True) -> Iterator[None]:
    """Drop TensorFlow's C++ log lines from descriptor 2 while the block runs.

    Args:
        enabled: ``False`` makes this a no-op (``--debug``, or ``TF_CPP_MIN_LOG_LEVEL`` set by the
            user). Defaults to ``True``.
    """
    if not enabled:
        yield
        return
    try:
        stderr_filter = _StderrFilter()
    except OSError:  # no descriptor 2 (a daemon), too many open files: run unfiltered
        yield
        return
    try:
        yield
    finally:
        stderr_filter.close()
