"""The Kafka adapter: access (TLS/SASL), the one producer, topics, the outbox relay."""
