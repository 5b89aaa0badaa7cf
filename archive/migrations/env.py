"""Alembic environment: runs on the connection Redline hands it."""
from alembic import context

from archive import schedule_models  # noqa: F401  (its tables are part of the metadata)
from archive.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
