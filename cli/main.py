"""The ``tracklists`` console script.

Sub-commands live in their own modules and are imported only when invoked, so
``tracklists parse`` does not pay for importing Flask, and ``tracklists db`` does
not pay for Scrapy.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group.
COMMANDS: dict[str, str] = {
    "batch": "cli.batch:batch",
    "crawl": "cli.crawl:crawl",
    "cue": "cli.cue:cue",
    "db": "cli.db:db",
    "health": "cli.health:health",
    "users": "cli.users:users",
    "keys": "cli.users:keys",
    "serve": "cli.serve:serve",
    "up": "cli.up:up",
    "relay": "cli.relay:relay",
    "consume": "cli.consume:consume",
    "mq": "cli.mq:mq",
    "parse": "cli.parse:parse",
    "record": "cli.record:record",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracklist-service")
def main() -> None:
    """Tracklist Service: crawl 1001tracklists.com, store, serve and export tracklists."""
