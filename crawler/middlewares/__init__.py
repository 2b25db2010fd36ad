"""Politeness downloader middlewares, enabled in ``crawler/settings.py`` (in this order).

- :mod:`.redirects` ``OffSiteRedirectMiddleware``: a redirect hop that leaves the site fails
  with ``OffSiteRedirect`` before anything is fetched from its target.
- :mod:`.robots` ``PoliteRobotsTxtMiddleware``: robots.txt with its Crawl-delay applied; a
  failing robots.txt defers the host instead of meaning "allow everything".
- :mod:`.retry` ``BackoffRetryMiddleware``: retries wait (exponential backoff; Retry-After on
  429/503 pauses the host).
- :mod:`.antibot` ``AntiBotMiddleware``: challenge, captcha and IP-block pages pause the host
  and fail the request with ``BlockedByAntiBot``.
- :mod:`.pacing` ``HostPacingMiddleware``: one request at a time per host, spaced by the
  larger of DOWNLOAD_DELAY and Crawl-delay, through a per-host budget (:mod:`.budget`) that
  every worker on one Redis shares.

Submodules are not imported here so that ``crawler.settings`` can read :mod:`.defaults`
without loading Scrapy components.
"""
