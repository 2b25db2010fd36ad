"""RabbitMQ consumers: search requests, tracklist retrieval requests and file events.

``tracklists consume search|retrieval|files`` runs one (:func:`build`); ``tracklists mq setup``
declares every exchange and queue (:mod:`.topology`). :mod:`.runner` holds the delivery
guarantees: ack after commit, applied once, retries with backoff, then a dead-letter queue.
"""

from __future__ import annotations

import redis
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from messaging.consumers.files import FileHandler
from messaging.consumers.retrieval import RetrievalHandler
from messaging.consumers.runner import Consumer, Handler, Malformed, Message
from messaging.consumers.search import SearchHandler
from messaging.topology import QueueSpec, Topology
from store.crawl_queue import CrawlQueue

KINDS = ("search", "retrieval", "files")

__all__ = ["KINDS", "Consumer", "Handler", "Malformed", "Message", "QueueSpec", "Topology", "build"]


def build(
    kind: str,
    settings: Settings,
    sessions: sessionmaker[Session],
    topology: Topology | None = None,
    *,
    crawl_queue_key: str | None = None,
) -> Consumer:
    """The consumer of ``kind`` (one of :data:`KINDS`), configured from ``settings``."""
    topology = topology or Topology.from_settings(settings)
    handler: Handler
    if kind == "search":
        handler = SearchHandler(settings.mq_result_routing_key)
    elif kind == "retrieval":
        client = redis.Redis.from_url(settings.effective_redis_url, socket_connect_timeout=2)
        queue = (
            CrawlQueue(client, sessions, crawl_queue_key)
            if crawl_queue_key
            else CrawlQueue(client, sessions)
        )
        handler = RetrievalHandler(
            sessions,
            queue,
            settings.mq_result_routing_key,
            max_age_hours=settings.api_tracklist_max_age_hours,
        )
    elif kind == "files":
        handler = FileHandler(sessions, settings.cue_storage_dir, settings.media_root)
    else:
        raise ValueError(f"unknown consumer {kind!r}; choose one of {', '.join(KINDS)}")
    return Consumer(
        handler,
        topology,
        sessions,
        settings.mq_rabbitmq_url,
        prefetch_count=settings.mq_prefetch_count,
    )
