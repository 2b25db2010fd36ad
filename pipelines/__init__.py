"""Item pipelines (validate, store, outbox) and the outbox relay to RabbitMQ."""
