"""A bounded worker pool for the REST server: parsing and inference leave the event loop.

The event loop only reads bodies and writes responses; JSON parsing, tensor conversion, input
checks and (unbatched) inference run on ``workers`` threads. At most ``max_pending`` requests are
admitted at once (running, queued for a worker, or having their body read); the next one is
refused with ``OverloadedError`` (HTTP 503 + Retry-After) instead of growing a queue without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from kerazoo.serving.errors import OverloadedError


class WorkerPool:
    """``workers`` threads and an admission limit of ``max_pending`` requests.

    Args:
        workers: Threads that parse and predict. Must be >= 1.
        max_pending: Most requests admitted at once; must be >= ``workers``.
    """

    def __init__(self, workers: int, max_pending: int, *, large_lane: bool = True) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1. Received: {workers}")
        if max_pending < workers:
            raise ValueError(
                f"max_pending must be >= workers ({workers}). Received: {max_pending}"
            )
        self.workers = workers
        self.max_pending = max_pending
        self.pending = 0  # touched only on the event loop thread: no lock needed
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="kerazoo-rest-worker")
        # One process for large bodies (see codec.parse_portable): "spawn", as forking a process
        # that runs TensorFlow's threads is unsafe. Started now in the background, so the first
        # large request does not wait for its imports.
        self._large = None
        if large_lane:
            import multiprocessing

            self._large = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self._large.submit(_warm_up)

    @property
    def has_large_lane(self) -> bool:
        return self._large is not None

    async def run_large(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` in the large-request process and await its result."""
        return await asyncio.wrap_future(self._large.submit(function, *args))

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one of the ``max_pending`` places, or raise OverloadedError when none is free."""
        if self.pending >= self.max_pending:
            raise OverloadedError(
                f"server overloaded: {self.pending} requests in progress (the limit, "
                f"--max-queue, is {self.max_pending}); retry later"
            )
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` on a worker thread and await its result."""
        return await asyncio.wrap_future(self._executor.submit(function, *args))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._large is not None:
            self._large.shutdown(wait=False, cancel_futures=True)


def _warm_up() -> None:
    import kerazoo.serving.codec  # noqa: F401  (the imports a first large request would pay)
    import kerazoo.serving.limits  # noqa: F401
