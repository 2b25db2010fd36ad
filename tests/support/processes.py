"""The processes a test started, read from /proc (Linux): what must not outlive the test."""

from __future__ import annotations

import ctypes
import os
import time
from pathlib import Path

PROC = Path("/proc")
_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


def _parents() -> dict[int, int]:
    """Every live process's parent: pid -> ppid (zombies included: they are not reaped yet)."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """The pids of every live process below ``pid`` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def command_line(pid: int) -> str:
    """The process's command line ('' when it is gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie has ended: it only waits to be reaped)."""
    running = set()
    for pid in pids:
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] != "Z":
            running.add(pid)
    return running


def wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait up to ``timeout`` seconds for ``pids`` to end; those still running."""
    deadline = time.monotonic() + timeout
    while (left := alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def own_descendants() -> set[int]:
    """The live descendants of this process."""
    return alive(descendants(os.getpid()))


def wait_for_own_descendants(timeout: float) -> set[int]:
    """Wait up to ``timeout`` seconds for this process to have no live descendant; those left.

    Looked up afresh each time: a child may start a process of its own while it ends.
    """
    deadline = time.monotonic() + timeout
    while (left := own_descendants()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def become_subreaper() -> None:
    """Adopt the orphans of this process's descendants (Linux ``PR_SET_CHILD_SUBREAPER``).

    A process whose parent dies is re-parented to the nearest subreaper instead of PID 1: so
    what a killed child leaves behind stays a descendant of this process, where
    :func:`own_descendants` finds it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(error)}")
