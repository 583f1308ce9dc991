"""Alembic environment for the benchmark kit's peer run: no application models, online mode only.

Each revision runs in a transaction of its own (transaction_per_migration=True), like sqlx-cli,
dbmate and the migrator, so that the ratios compare the same work. Alembic's default would be one
transaction around the whole upgrade.
"""

import os

from alembic import context
from sqlalchemy import create_engine, pool


def database_url():
    # The kit passes a libpq-style postgres:// URL; SQLAlchemy names its driver in the scheme.
    _, _, rest = os.environ["TFM_BENCH_PEER_DATABASE_URL"].partition("://")
    return "postgresql+psycopg2://" + rest


# NullPool: one process, one connection, closed at exit; a pool would only add bookkeeping.
engine = create_engine(database_url(), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
