"""Use cases shared by the API, the crawl, the message consumers and the CLI.

Plain functions and small classes over a SQLAlchemy session: no Flask, Scrapy or pika here,
so every entry point calls the same code and maps its errors to its own protocol (HTTP
problem documents, message replies, CLI exit codes).

- :mod:`service.intake`: the one decision for a tracklist URL: answer from the store, reuse
  an active crawl request, or queue a new one.
- :mod:`service.batches`, :mod:`service.cue_batches`, :mod:`service.batch_progress`,
  :mod:`service.batch_retention`: batch jobs.
- :mod:`service.cue_export`, :mod:`service.cue_source`: stored tracklists through :mod:`cue`.
- :mod:`service.editing`: drafts, versions, conflicts, their rules and diffs.
- :mod:`service.entry_rows`: a tracklist's published rows, written the same way by every origin.
- :mod:`service.search`: the API's ranked search and the message consumers' plain search.
- :mod:`service.accounts`: API users and keys.
- :mod:`service.tracklist_view`: stored tracklists in the shapes of the service's data models.
"""
