"""The service's configuration and logging, read once by every entry point.

- :mod:`config.settings`: the ``TRACKLIST_*`` environment variables (and ``.env``) as one
  validated :class:`~config.settings.Settings` object.
- :mod:`config.logs`: structured logs, one JSON object per line, with the correlation id of
  the work at hand.

Imports nothing else of ours, so every layer may use it.
"""
