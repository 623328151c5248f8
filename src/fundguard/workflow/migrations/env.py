"""Alembic environment: uses the connection handed over by ``WorkflowDB.upgrade()``.

Run from code only (``fundguard.workflow.db.WorkflowDB.upgrade``); without a connection the configured
``FUNDGUARD_WORKFLOW_DB_URL`` (or the default SQLite file) is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fundguard.workflow.models import Base

VERSION_TABLE = "wf_alembic_version"
_LOCK_KEY = 48_151_623  # PostgreSQL advisory lock: one migrating process at a time


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from fundguard.config import get_settings

    engine = create_engine(get_settings().workflow_url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("FundGuard 工作流迁移只支持在线执行（WorkflowDB.upgrade）")
run_migrations_online()
