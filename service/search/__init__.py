"""Search over stored tracklists.

- :mod:`service.search.candidates`: the API's ranked fuzzy search (DJs, events, tracks) on
  each backend; :mod:`service.search.track_words` its word index on PostgreSQL;
  :mod:`service.search.results` one page of results ready to show.
- :mod:`service.search.substring`: the message consumers' plain substring search.
"""
