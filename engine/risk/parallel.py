"""Chunks of a simulation on this machine's cores: ``with local_chunk_runner(2) as runner: simulate(..., map_chunks=runner)``.

Every 256-path block draws from its own stream (see the package docstring), so a chunk's numbers do not depend on
which process computes it; results come back in submission order, so the summary sees the paths in the order one
process gives them and every figure is the same to the bit. At most two chunks per worker are in flight: memory
stays bounded (the summary consumes chunks as they arrive) and a slow summary never piles up finished chunks.

Processes, not threads: the kernel's NumPy calls are many and short, so threads would serialise on the
interpreter (measured, whole runs: threads 1.18x one core, processes 1.54x). On Linux the workers are forked from a
fork server, a fresh process that has imported the engine (0.14 s to start, once a run): never from this process,
which NumPy's BLAS has already made multi-threaded, and forking a multi-threaded process can deadlock the child
(Python 3.12+ warns; 3.14 makes the fork server the default). On macOS and Windows they start fresh (spawn) and
import the engine each. Either way a program's top level must sit under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from engine.errors import InputError, Issue

MAX_WORKERS = 256


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform says, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def check_workers(workers: int) -> None:
    """InputError naming ``workers``, its range and the value, for a count the machine cannot run."""
    if not 1 <= workers <= MAX_WORKERS:
        message = f"workers must be a whole number from 1 to {MAX_WORKERS} (this machine has {usable_cores()} cores)"
        raise InputError(Issue("workers", "range", f"{message}, got {workers}", workers))


_TUNED = [False]


def tune_allocator() -> bool:
    """Keep the kernel's freed arrays for reuse instead of giving them back to the system: glibc's ``malloc`` maps
    every block over 128 KB afresh by default and unmaps it when freed, so each chunk's (4,096 x 60) arrays fault
    their pages in again (measured: 17% of a 100k-path run on one core). Raises the threshold to 32 MB (glibc's
    maximum) and keeps up to 256 MB free at the top of the heap. True where it applied (glibc: Linux); elsewhere,
    and after the first call, nothing happens."""
    if _TUNED[0] or not sys.platform.startswith("linux"):
        return _TUNED[0]
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries without mallopt
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    _TUNED[0] = bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))
    return _TUNED[0]


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["engine.risk.paths"])  # each worker forks with the engine imported
        return ctx
    return multiprocessing.get_context("spawn")


@contextmanager
def local_chunk_runner(workers: int) -> Iterator[Callable[[Callable[[range], Any], list[range]], Iterator[Any]]]:
    """A chunk runner (``engine.risk.ChunkRunner``) over ``workers`` processes of this machine, for the ``with``
    block; one worker runs the chunks here, in this process (no pool to start)."""
    check_workers(workers)
    if workers == 1:

        def here(run: Callable[[range], Any], chunks: list[range]) -> Iterator[Any]:
            return (run(c) for c in chunks)

        yield here
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=tune_allocator) as pool:
        # the workers start now, before the run (and before a progress bar's thread): a failure to start shows here
        for started in [pool.submit(os.getpid) for _ in range(workers)]:
            started.result()

        def map_chunks(run: Callable[[range], Any], chunks: list[range]) -> Iterator[Any]:
            pending: deque[Future[Any]] = deque()
            todo = iter(chunks)
            try:
                for chunk in todo:
                    pending.append(pool.submit(run, chunk))
                    if len(pending) >= 2 * workers:
                        break
                while pending:
                    result = pending.popleft().result()
                    following = next(todo, None)
                    if following is not None:
                        pending.append(pool.submit(run, following))
                    yield result
            finally:  # a summary that stops early (the last chunk cut at n_paths) leaves nothing running
                for future in pending:
                    future.cancel()

        map_chunks.workers = workers  # type: ignore[attr-defined]  # the summary orders its outputs as many at a time
        yield map_chunks
