"""Alembic environment: the URL comes from the caller (`hub.adapters.postgres.migrate.upgrade`)."""

from alembic import context
from sqlalchemy import create_engine, text

from hub.adapters.postgres.schema import metadata

url = context.config.get_main_option("sqlalchemy.url")
if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url)  # type: ignore[arg-type]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            # Hub processes starting together must not race each other's migrations.
            connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            context.run_migrations()
    engine.dispose()
