"""Editing a stored tracklist: drafts, versions, conflicts with re-crawls, rules and diffs.

Called by the API's editing blueprints and by the crawl's write path (a re-crawl that
disagrees with a human edit becomes a conflict). Refusals are :mod:`service.editing.errors`,
which the API maps to 404, 409 and 422.
"""
