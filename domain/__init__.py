"""Names and identities of the site's data, in pure Python (standard library only).

- :mod:`domain.site`: everything the service knows about the site's URLs, in one place: its
  hosts, the shape of a tracklist page's address, the intake rules for URLs from clients and
  redirects (SSRF-safe), and how ids and slugs are read from links.
- :mod:`domain.identity`: one catalogue key for the same track however a tracklist spells it.
- :mod:`domain.integrity`: when a crawled page is too short to publish.

The API imports these without loading the page parsers (lxml) into its workers; the parsers,
the crawler, the use cases and the store all import them.
"""
