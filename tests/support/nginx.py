"""The shipped load balancer (deploy/nginx) run by the real nginx binary, on addresses of a test's
own: the same nginx.conf as compose, with upstreams.conf and listen.conf written for the test.

    conf = nginx_config(tmp_path / "lb", ["127.0.0.1:8001", "127.0.0.1:8002"], "127.0.0.1:8080")
    check_config(conf)                       # nginx -t
    with Nginx(conf) as lb: ...              # nginx in the foreground; lb.lines: its log
    with Nginx(conf, wrapper=["ip", "netns", "exec", "lb"]): ...   # inside a network namespace

Every path nginx writes (pid, temporary bodies) is under the prefix (the folder of ``conf``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from support.service import ROOT, service_unavailable

NGINX_DIR = ROOT / "deploy" / "nginx"
# Debian installs nginx in /usr/sbin, which is not on every user's PATH.
_SEARCH_PATH = "/usr/sbin:/usr/local/sbin:/sbin"


def nginx_binary() -> str:
    """The nginx program; skip locally, fail in CI, when it is not installed."""
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:{_SEARCH_PATH}")
    if found is None:
        service_unavailable("nginx is not installed (apt: see .ci/apt-packages.txt)")
        raise AssertionError("unreachable")  # service_unavailable skips or fails
    return found


def shipped_upstream_parameters() -> str:
    """The parameters of the shipped ``server`` line (``max_fails=… fail_timeout=…``)."""
    for line in (NGINX_DIR / "upstreams.conf").read_text().splitlines():
        if line.startswith("server "):
            return " ".join(line.removesuffix(";").split()[2:])
    raise AssertionError("deploy/nginx/upstreams.conf has no server line")


def nginx_config(
    prefix: Path, upstreams: Sequence[str], listen: str, *, main: str | None = None
) -> Path:
    """A prefix folder with the shipped nginx.conf (or ``main``), ``upstreams`` (``host:port``,
    with the shipped parameters) and ``listen`` (``[address:]port``); returns the config path.
    """
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(main if main is not None else (NGINX_DIR / "nginx.conf").read_text())
    parameters = shipped_upstream_parameters()
    (prefix / "upstreams.conf").write_text(
        "".join(f"server {address} {parameters};\n" for address in upstreams)
    )
    (prefix / "listen.conf").write_text(f"listen {listen};\n")
    return conf


def nginx_argv(conf: Path, *flags: str, directives: str = "") -> list[str]:
    """The nginx command line for ``conf``, its prefix being the config's folder.

    Run as root, nginx's workers would be ``nobody``, who cannot enter the test's temporary
    folders (mode 0700) to buffer bodies there: they stay root (``user root;``).
    """
    if os.geteuid() == 0:
        directives = f"user root; {directives}"
    argv = [nginx_binary(), "-e", "stderr", "-p", f"{conf.parent}/", "-c", str(conf), *flags]
    return [*argv, "-g", directives.strip()] if directives.strip() else argv


def check_config(conf: Path, wrapper: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on ``conf`` (run through ``wrapper``); never raises on a refused one."""
    return subprocess.run(
        [*wrapper, *nginx_argv(conf, "-t")], capture_output=True, text=True, timeout=30, check=False
    )


class Nginx:
    """nginx in the foreground on ``conf``; its access and error log lines in :attr:`lines`.

    ``wrapper`` goes before the command (``ip netns exec HOST``); ``health_url`` is waited for.
    """

    def __init__(
        self, conf: Path, health_url: str | None = None, wrapper: Sequence[str] = ()
    ) -> None:
        self.conf = conf
        self.wrapper = list(wrapper)
        self.health_url = health_url  # e.g. http://127.0.0.1:8080/lb-health: waited for
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Nginx:
        self.process = subprocess.Popen(
            [*self.wrapper, *nginx_argv(self.conf, directives="daemon off;")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.health_url is not None:
            self._wait_for(self.health_url)
        return self

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def _wait_for(self, url: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited: {self.lines}")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"nginx did not answer {url}: {self.lines}") from None
                time.sleep(0.05)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: nginx's fast shutdown, workers included
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
