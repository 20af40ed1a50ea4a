"""Server-side dynamic batching: concurrent requests to one signature run as one batched call.

A worker thread takes the oldest pending request, then gathers compatible requests (same inputs,
dtypes and per-example shapes) until ``max_batch_size`` rows or ``max_wait_ms`` after the first one,
concatenates them along axis 0, runs the signature once and splits each output back by row counts.
Like TensorFlow Serving's batcher, this assumes every output is computed row by row; a batched
call whose outputs do not have the summed batch size is re-run request by request.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BatchingOptions:
    """Dynamic batching settings.

    Args:
        max_batch_size: Most rows in one batched call. Defaults to 32.
        max_wait_ms: How long the first request of a batch waits for others. Defaults to 2.0.
    """

    max_batch_size: int = 32
    max_wait_ms: float = 2.0

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1. Received: {self.max_batch_size}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0. Received: {self.max_wait_ms}")


class _Pending:
    __slots__ = ("feeds", "rows", "key", "future")

    def __init__(self, feeds: dict[str, np.ndarray]) -> None:
        self.feeds = feeds
        sizes = {a.shape[0] if a.ndim else -1 for a in feeds.values()}
        self.rows = sizes.pop() if len(sizes) == 1 else -1  # -1: cannot be batched with others
        self.key = tuple(sorted((n, a.dtype.str, a.shape[1:]) for n, a in feeds.items()))
        self.future: Future = Future()


class DynamicBatcher:
    """Queue requests for ``run`` (``{name: array}`` -> ``{name: array}``) and batch them.

    Args:
        run: The signature call.
        options: Batch size and wait limits.
    """

    def __init__(self, run: Callable[[dict], dict], options: BatchingOptions) -> None:
        self.run = run
        self.options = options
        self._queue: collections.deque[_Pending] = collections.deque()
        self._condition = threading.Condition()
        self._closed = False
        self.batches_run = 0
        self.rows_run = 0
        self._thread = threading.Thread(target=self._loop, name="kerazoo-batcher", daemon=True)
        self._thread.start()

    def submit(self, feeds: dict[str, np.ndarray]) -> Future:
        """Queue one request; the future resolves to its outputs (or its exception)."""
        item = _Pending(feeds)
        with self._condition:
            if self._closed:
                raise RuntimeError("the batcher is closed")
            self._queue.append(item)
            self._condition.notify()
        return item.future

    def close(self) -> None:
        """Finish queued requests, then stop the worker thread."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        self._thread.join(timeout=30)

    def _take_compatible(self, first: _Pending, batch: list[_Pending], rows: int) -> int:
        keep: collections.deque[_Pending] = collections.deque()
        limit = self.options.max_batch_size
        while self._queue:
            item = self._queue.popleft()
            if item.key == first.key and item.rows > 0 and rows + item.rows <= limit:
                batch.append(item)
                rows += item.rows
            else:
                keep.append(item)
        self._queue.extendleft(reversed(keep))
        return rows

    def _loop(self) -> None:
        wait_s = self.options.max_wait_ms / 1000.0
        while True:
            with self._condition:
                while not self._queue and not self._closed:
                    self._condition.wait()
                if not self._queue:
                    return
                first = self._queue.popleft()
                batch = [first]
                rows = first.rows
                if rows > 0:
                    deadline = time.monotonic() + wait_s
                    while True:
                        rows = self._take_compatible(first, batch, rows)
                        remaining = deadline - time.monotonic()
                        if rows >= self.options.max_batch_size or remaining <= 0 or self._closed:
                            break
                        self._condition.wait(remaining)
            self._execute(batch)

    def _execute(self, batch: list[_Pending]) -> None:
        if len(batch) == 1:
            self._run_one(batch[0])
            return
        total = sum(item.rows for item in batch)
        try:
            feeds = {
                name: np.concatenate([item.feeds[name] for item in batch])
                for name in batch[0].feeds
            }
            outputs = self.run(feeds)
        except Exception:
            # One bad request must not fail its neighbours: run each alone to attribute errors.
            for item in batch:
                self._run_one(item)
            return
        if any(value.ndim == 0 or value.shape[0] != total for value in outputs.values()):
            for item in batch:
                self._run_one(item)
            return
        self.batches_run += 1
        self.rows_run += total
        start = 0
        for item in batch:
            stop = start + item.rows
            item.future.set_result({name: value[start:stop] for name, value in outputs.items()})
            start = stop

    def _run_one(self, item: _Pending) -> None:
        try:
            result = self.run(item.feeds)
        except BaseException as error:  # delivered to the waiting request, never lost
            item.future.set_exception(error)
            return
        self.batches_run += 1
        self.rows_run += max(item.rows, 0)
        item.future.set_result(result)


def run_now(run: Callable[[dict], dict], feeds: dict[str, Any]) -> Future:
    """Run without batching, as a resolved future (the same interface as ``submit``)."""
    future: Future = Future()
    try:
        future.set_result(run(feeds))
    except BaseException as error:
        future.set_exception(error)
    return future
