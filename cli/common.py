"""Helpers every sub-command shares: settings loading with a clean one-line failure."""

from __future__ import annotations

import click

from config.settings import ConfigError, Settings, load_settings


def settings_or_exit() -> Settings:
    """Load the ``TRACKLIST_*`` settings, or stop with ``Error: TRACKLIST_X=...: reason``."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
