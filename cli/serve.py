"""``tracklists serve``: the API under gunicorn, configured from TRACKLIST_*.

For development, ``flask --app api run`` serves the same app with the reloader.

Slow clients (issue 16). gunicorn's gthread worker gives a connection to a thread as soon as a
byte arrives, and the thread reads headers and body at the client's pace with no deadline: with
64 connections trickling a body, every other request timed out and none of them was closed after
40 s. None of gunicorn's settings bounds that read: ``--timeout`` is the worker's heartbeat (the
gthread event loop keeps beating while its threads are stuck), ``--keep-alive`` covers idle
kept-alive connections only, gunicorn 27's 5-second wait for a first byte hands a connection
back to the poller only while it has sent nothing, and ``--worker-connections`` is a cap, not a
deadline. The worker class is therefore :class:`api.gunicorn_worker.BufferingWorker`: gthread
whose threads read a request without waiting and hand it back to the event loop while it is
incomplete, which answers ``408`` and closes a client that has not sent it all within
``TRACKLIST_API_CLIENT_TIMEOUT`` seconds, and lingers on closing connections without blocking
(gunicorn's own close blocks its event loop up to 2 s per client that does not close its end). A
slow client costs a socket, not a thread, and ``tracklists serve`` survives alone, without a
buffering proxy in front. Its cost per request is a few percent of CPU time (``bench/api.py``
prints its throughput against plain gthread). Alternatives weighed: the gevent worker (a
greenlet per connection, but monkey-patched psycopg, redis and SQLAlchemy pools, and still no
deadline), an ASGI server with a WSGI adapter (a2wsgi starts the app in a thread once the
headers are in and reads the body from there), reading requests in gthread's event loop (each
``recv`` there gives up the GIL and may wait a switch interval to get it back, holding up every
connection: 16% less throughput), or only a proxy in front (the API alone still falls over).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys

import click

from cli.common import settings_or_exit
from config.settings import Settings


def gunicorn_argv(settings: Settings) -> list[str]:
    """The gunicorn command line for these settings."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "api.gunicorn_worker.BufferingWorker",
        "--workers",
        str(settings.api_workers),
        "--threads",
        str(settings.api_threads),
        "--bind",
        f"{settings.api_host}:{settings.api_port}",
        "--log-level",
        settings.api_log_level,
        "--config",
        "python:api.gunicorn_hooks",
        # gunicorn 27's control socket (~/.gunicorn/gunicorn.ctl) manages workers at run time;
        # we do not use it, and two servers on one host would share its path.
        "--no-control-socket",
    ]
    if settings.api_reuse_port:
        argv.append("--reuse-port")
    if settings.log_format == "text":
        # With JSON logs the app logs each request itself (api.request_ids), as JSON.
        argv += ["--access-logfile", "-"]
    if settings.api_reload:
        argv.append("--reload")
    # No --preload: each worker creates its own engine and connections after the fork.
    argv.append("api:create_app()")
    return argv


def port_in_use(host: str, port: int) -> OSError | None:
    """What stops a socket of our own from listening on ``host:port``; None when nothing does.

    With ``--reuse-port`` each worker binds with SO_REUSEPORT, which another server of the
    same user listening there with that flag too would silently share instead of refusing.
    """
    try:
        family, kind, protocol, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as error:
        return error
    with socket.socket(family, kind, protocol) as probe:
        # A previous run's connections in TIME_WAIT do not stop a server; a listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen()
        except OSError as error:
            return error
    return None


@click.command()
def serve() -> None:
    """Run the REST API (TRACKLIST_API_HOST:PORT, TRACKLIST_API_WORKERS x THREADS)."""
    settings = settings_or_exit()
    taken = port_in_use(settings.api_host, settings.api_port)
    if taken is not None:
        raise click.ClickException(
            f"cannot listen on {settings.api_host}:{settings.api_port}: "
            f"{taken.strerror or taken} (TRACKLIST_API_HOST, TRACKLIST_API_PORT)"
        )
    env = dict(os.environ)
    if not settings.jwt_secret:
        if settings.environment == "production":
            raise click.ClickException(
                "TRACKLIST_JWT_SECRET is required when TRACKLIST_ENVIRONMENT=production "
                "(generate one with: openssl rand -hex 32)"
            )
        # One secret for all workers of this run, so a token works whichever worker answers.
        env["TRACKLIST_JWT_SECRET"] = secrets.token_hex(32)
        click.echo(
            "warning: TRACKLIST_JWT_SECRET is not set; tokens from this run are signed with a "
            "random secret and stop working when it ends",
            err=True,
        )
    # Workers share their Prometheus counters through files; stale ones would add up.
    metrics_dir = settings.data_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
    argv = gunicorn_argv(settings)
    os.execve(argv[0], argv, env)  # noqa: S606 - gunicorn replaces this process (signals, PID 1)
