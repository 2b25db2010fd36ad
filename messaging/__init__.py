"""RabbitMQ: the outbox relay, the consumers and the topology they share.

- :mod:`messaging.relay`: publishes committed outbox rows (written by :mod:`store.outbox`)
  with publisher confirms, losing none.
- :mod:`messaging.consumers`: search requests, tracklist retrieval requests, file events.
- :mod:`messaging.topology`: exchanges, queues, bindings and dead-lettering, and the
  unrouted queue where events no queue is bound for wait.
- :mod:`messaging.replay`: moves those events back to the exchange once a queue is bound.

The only package that imports pika; the use cases it calls are in :mod:`service`.
"""
