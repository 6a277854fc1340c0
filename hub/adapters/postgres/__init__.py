"""The PostgreSQL adapter: the batch's unit of work and the outbox it publishes, and the
repositories of the operator use cases."""
