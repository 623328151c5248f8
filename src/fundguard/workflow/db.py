"""The workflow database: SQLite (embedded default) or PostgreSQL, schema managed by Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from fundguard.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "wf_alembic_version"


class WorkflowDB:
    """One database, one engine. ``session()`` commits on success and rolls back on error."""

    def __init__(self, url: str, settings=None, echo: bool = False):
        from fundguard.config import get_settings

        self.settings = settings or get_settings()
        self.url = make_url(url)
        self.engine: Engine = _make_engine(self.url, echo)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def alembic_config(self, connection=None):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("version_table", VERSION_TABLE)
        cfg.attributes["connection"] = connection
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Run the migrations up to ``revision`` (idempotent)."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                command.upgrade(self.alembic_config(connection), revision)
        except Exception as exc:
            raise StoreError(f"工作流数据库迁移失败（{self.url.render_as_string(hide_password=True)}）：{exc}",
                             code="FG210") from exc

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            ctx = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url, echo: bool) -> Engine:
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        if not memory:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        _sqlite_tuning(engine, memory)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_tuning(engine: Engine, memory: bool) -> None:
    """Foreign keys on, WAL, a busy timeout, and real transactions (pysqlite's own BEGIN handling is disabled
    so that SAVEPOINTs — one per item in bulk actions — behave; see SQLAlchemy's pysqlite notes)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def open_workflow_db(settings=None) -> WorkflowDB:
    """The configured workflow database (default: ``workflow.db`` in the data directory), migrated to head."""
    from fundguard.config import get_settings

    settings = settings or get_settings()
    db = WorkflowDB(settings.workflow_url, settings=settings)
    db.upgrade()
    return db
