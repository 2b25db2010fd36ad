"""RabbitMQ: the outbox relay, the consumers and the topology they share.

- :mod:`messaging.relay`: publishes committed outbox rows (written by :mod:`store.outbox`)
  with publisher confirms, losing none.
- :mod:`messaging.consumers`: search requests, tracklist retrieval requests, file events.
- :mod:`messaging.topology`: exchanges, queues, bindings and dead-lettering.

The only package that imports pika; the use cases it calls are in :mod:`service`.
"""
