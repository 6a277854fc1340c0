"""Adapters: PostgreSQL (schema, repositories, the unit of work) and Kafka."""
