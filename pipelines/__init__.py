"""The crawl's item pipelines (``ITEM_PIPELINES``: validate, store) and its write path (persist)."""
