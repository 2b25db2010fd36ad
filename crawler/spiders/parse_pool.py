"""The parse pool: worker processes that die with the crawl, however the crawl dies.

A ``ProcessPoolExecutor`` on the ``forkserver`` context starts three kinds of process: the
resource tracker and the fork server (children of the crawl) and the workers (children of the
fork server). None of them notices a SIGKILLed crawl: each worker holds both ends of its own
call queue and the write end of the fork server's "alive" pipe, so it waits for work forever,
and the fork server and the tracker, waiting for EOF on pipes the workers hold, wait with it.

So each process the crawl's death must end asks the kernel to SIGKILL it when its parent dies
(``prctl(PR_SET_PDEATHSIG)``, Linux): the fork server as it starts (it preloads
:mod:`crawler.spiders.forkserver_preload`), each worker in the pool's initializer (its parent
is the fork server, which dies with the crawl; the setting is not inherited through fork).
The tracker needs nothing: once the crawl, the fork server and the workers are gone, its pipe
reaches EOF and it exits. A kernel signal, unlike a watchdog thread polling ``getppid()``,
also ends a process busy in C code (lxml), and adds no thread to the fork server, which must
stay single-threaded to fork safely.

A parent may die before its child has asked. The fork server is safe anyway: no worker exists
before it has run its preload, and the crawl held the only other end of its "alive" pipe, so
it sees EOF and exits. A worker checks, once it has asked, that its parent is still the fork
server that forked it.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

PRELOAD = "crawler.spiders.forkserver_preload"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere nothing).

    The signal follows the parent *thread* that forked this process: the fork server is
    started by the thread that first submits work (the crawl's reactor thread, which lives as
    long as the crawl), and the fork server itself has a single thread.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")


def _worker_started() -> None:
    """The pool's initializer: die with the fork server, and now if it is already gone."""
    die_with_parent()
    # The fork server's preload, inherited through fork: it knows the fork server's pid.
    preload = sys.modules.get(PRELOAD)
    if preload is not None and os.getppid() != preload.FORK_SERVER_PID:
        os._exit(1)  # orphaned before asking: nothing will ever end this worker otherwise


def parse_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of ``processes`` forkserver workers that end when this process ends.

    forkserver, not fork: the crawler has threads running, which fork would copy mid-flight
    (locks held by a thread that does not exist in the child).
    """
    context = multiprocessing.get_context("forkserver")
    # Read when the fork server starts (on the first task), before it forks any worker.
    context.set_forkserver_preload([PRELOAD])
    return ProcessPoolExecutor(processes, mp_context=context, initializer=_worker_started)
