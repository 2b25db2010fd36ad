"""Hosts on a test network: Linux network namespaces joined by a bridge, made and removed here.

:class:`TestNetwork` makes a bridge on this machine with an address of a private /24 (the
machine's own end, where the forwarders to its PostgreSQL, Redis and RabbitMQ listen) and one
namespace per host, each joined to the bridge by a veth pair. Every address lives on this
machine; nothing is routed anywhere else. Processes start inside a host with ``ip netns exec``
and ``unshare --uts`` (so each host also has a hostname of its own), as children of the test.
:meth:`TestNetwork.close` kills every process left in the hosts and deletes the namespaces,
the veth pairs and the bridge, whatever happened before.

Making namespaces needs root (CAP_NET_ADMIN) and iproute2; :func:`network_unavailable_reason`
says why they cannot be made here, for a clear skip.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from support.processes import alive, wait_until_gone


def network_unavailable_reason() -> str | None:
    """Why this machine cannot make test hosts (``None``: it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN); this run is not root"
    for program in ("ip", "unshare"):
        if shutil.which(program) is None:
            return f"{program} (iproute2 / util-linux) is not installed"
    probe = f"tlprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True, check=False)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _free_subnet() -> str:
    """A 10.x.y.0/24 no route of this machine covers (``10.x.y``, without the last octet)."""
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for _ in range(100):
        prefix = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
        if f"{prefix}." not in routes:
            return prefix
    raise RuntimeError("no free 10.x.y.0/24 for the test network")


@dataclass
class Host:
    """One namespace on the test network."""

    name: str
    namespace: str
    address: str
    link: str  # the veth end on this machine's side (down = the host is cut off)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(
        self, command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Run ``command`` on this host; its output (both streams) goes to ``log``."""
        wrapped = [
            "ip", "netns", "exec", self.namespace,
            "unshare", "--uts", "sh", "-c", f'hostname "{self.name}" && exec "$@"', "sh",
            *command,
        ]  # fmt: skip
        with log.open("ab") as output:
            process = subprocess.Popen(
                wrapped, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def pids(self) -> set[int]:
        """Every process running in this host's namespace."""
        found = subprocess.run(
            ["ip", "netns", "pids", self.namespace], capture_output=True, text=True
        ).stdout
        return {int(pid) for pid in found.split()}

    def kill_all(self) -> set[int]:
        """SIGKILL every process on this host (a host that dies); returns their pids.

        Repeated until the namespace is empty: a process may fork between the listing and
        the kill (nginx's master starting a worker, a crawl starting its parse pool).
        """
        killed: set[int] = set()
        for _ in range(50):
            pids = alive(self.pids())
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            killed |= pids
            wait_until_gone(pids, 1)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        return killed

    def stop_all(self, timeout: float = 20) -> None:
        """SIGTERM this host's processes, then SIGKILL what is still alive after ``timeout``."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        self.kill_all()


class TestNetwork:
    """A bridge and hosts on it, all on this machine; a context manager that cleans up."""

    __test__ = False  # not a test class, despite its name

    def __init__(self) -> None:
        self.tag = f"{os.getpid() % 10000}{random.randint(0, 99):02d}"
        self.prefix = _free_subnet()
        self.gateway = f"{self.prefix}.1"  # this machine's own address on the bridge
        self.bridge = f"tlbr{self.tag}"
        self.hosts: dict[str, Host] = {}
        _ip("link", "add", self.bridge, "type", "bridge")
        try:
            _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        except subprocess.CalledProcessError:
            self.close()
            raise

    def add_host(self, name: str) -> Host:
        """A new namespace with an address on the bridge and a default route to this machine."""
        number = len(self.hosts) + 2
        namespace = f"tl{self.tag}-{name}"
        outside, inside = f"tlv{self.tag}{number}", f"tlp{self.tag}{number}"
        host = Host(name, namespace, f"{self.prefix}.{number}", outside)
        self.hosts[name] = host
        _ip("netns", "add", namespace)
        _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        _ip("link", "set", inside, "netns", namespace)
        _ip("link", "set", outside, "master", self.bridge)
        _ip("link", "set", outside, "up")
        for command in (
            ("link", "set", "lo", "up"),
            ("link", "set", inside, "name", "eth0"),
            ("addr", "add", f"{host.address}/24", "dev", "eth0"),
            ("link", "set", "eth0", "up"),
            ("route", "add", "default", "via", self.gateway),
        ):
            _ip("-n", namespace, *command)
        return host

    def cut(self, host: Host) -> None:
        """Take the host's link down: it stays up, but nothing reaches it or leaves it."""
        _ip("link", "set", host.link, "down")

    def close(self) -> None:
        """Kill what runs on the hosts, delete the namespaces, the links and the bridge."""
        pids: set[int] = set()
        for host in self.hosts.values():
            pids |= host.kill_all()
        wait_until_gone(alive(pids), 10)
        for host in self.hosts.values():
            subprocess.run(["ip", "netns", "delete", host.namespace], capture_output=True)
            subprocess.run(["ip", "link", "delete", host.link], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts.values())

    def __enter__(self) -> TestNetwork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
