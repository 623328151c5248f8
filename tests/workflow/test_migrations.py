"""Alembic: the migrations build an empty database to head on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from fundguard.config import Settings
from fundguard.errors import StoreError
from fundguard.workflow.db import MIGRATIONS, VERSION_TABLE, WorkflowDB, open_workflow_db
from fundguard.workflow.models import Base

from .conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path, settings, pg_databases):
    if request.param == "postgresql":
        if pg_databases is None:
            pytest.skip("未设置 FUNDGUARD_TEST_PG_URL，跳过 PostgreSQL（CI 中由 .ci/run 设置）")
        url = pg_databases.empty()
    else:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    db = WorkflowDB(url, settings=settings)
    yield db
    db.dispose()


def test_upgrade_builds_an_empty_database_matching_the_models(empty_db):
    assert empty_db.current_revision() is None
    empty_db.upgrade()
    empty_db.upgrade()                                                    # idempotent
    head = ScriptDirectory.from_config(empty_db.alembic_config()).get_current_head()
    assert empty_db.current_revision() == head
    tables = set(sa.inspect(empty_db.engine).get_table_names())
    assert set(Base.metadata.tables) | {VERSION_TABLE} <= tables
    with empty_db.engine.connect() as c:
        ctx = MigrationContext.configure(c, opts={"compare_type": True, "version_table": VERSION_TABLE})
        assert compare_metadata(ctx, Base.metadata) == []


def test_downgrade_to_base_and_up_again(empty_db):
    from alembic import command

    empty_db.upgrade()
    with empty_db.engine.begin() as c:
        command.downgrade(empty_db.alembic_config(c), "base")
    assert set(sa.inspect(empty_db.engine).get_table_names()) <= {VERSION_TABLE}
    empty_db.upgrade()
    assert "wf_items" in sa.inspect(empty_db.engine).get_table_names()


def test_postgresql_server_is_available_for_these_tests(pg_databases):
    if pg_databases is None:
        pytest.skip("未设置 FUNDGUARD_TEST_PG_URL：工作流测试只在 SQLite 上运行（CI 中 .ci/run 会启动 PostgreSQL）")
    engine = sa.create_engine(pg_databases.admin_url, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        assert c.exec_driver_sql("SHOW server_version_num").scalar() >= "150000"
    engine.dispose()


def test_migrations_ship_inside_the_package():
    assert (MIGRATIONS / "env.py").is_file()
    assert list((MIGRATIONS / "versions").glob("0001_*.py"))


def test_open_workflow_db_defaults_to_sqlite_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", workflow_db_url="", _env_file=None)
    db = open_workflow_db(settings)
    try:
        assert db.dialect == "sqlite" and (tmp_path / "d" / "workflow.db").is_file()
        assert db.current_revision() is not None
    finally:
        db.dispose()


def test_bad_url_reports_a_store_error(tmp_path):
    with pytest.raises(ValueError):
        Settings(workflow_db_url="mysql://x/y", _env_file=None)
    db = WorkflowDB("postgresql+psycopg://nobody@127.0.0.1:1/none", settings=Settings(_env_file=None))
    with pytest.raises(StoreError) as exc:
        db.upgrade()
    assert exc.value.code == "FG210" and "工作流数据库迁移失败" in exc.value.message


def test_secret_key_is_generated_once_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    key = settings.get_secret_key()
    assert len(key) >= 32 and settings.get_secret_key() == key
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert Settings(secret_key="k" * 40, _env_file=None).get_secret_key() == "k" * 40
    with pytest.raises(ValueError):
        Settings(secret_key="short", _env_file=None)
