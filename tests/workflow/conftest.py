"""Workflow test fixtures. Every service test runs on SQLite, and on PostgreSQL when FUNDGUARD_TEST_PG_URL is set.

PostgreSQL: each test session creates uniquely named databases and drops them at the end, so parallel sessions
never share state. Service tests share one migrated database that is emptied before each test.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from fundguard.config import Settings
from fundguard.engine.schema import init_engine_schema
from fundguard.workflow.access import Principal
from fundguard.workflow.db import WorkflowDB
from fundguard.workflow.service import ItemService
from fundguard.workflow.users import UserService

PG_ENV = "FUNDGUARD_TEST_PG_URL"
RESET_TABLES = ("wf_attachments", "wf_item_log", "wf_items", "wf_admin_log", "wf_login_attempts", "wf_users",
                "wf_calendar_days")
# argon2id with small costs: the same algorithm and hash format, fast enough for many tests.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORD = "Secret2025x"

# Hand-written findings: two rules, three institutions; periods come from setl_d / mdtrt_d.
FINDINGS = [
    # run_id, jr_id, rule_id, rule_name, sev_deg, fixmedins_code, vola_amt, mdtrt_id, setl_id, hilist_name
    (1, "J001", "R1", "药品区分性别使用", 1, "H001", "655.20", "MD01", "ST01", "黄体酮注射液"),
    (1, "J002", "R1", "药品区分性别使用", 1, "H002", "120.00", "MD02", "ST02", "黄体酮注射液"),
    (1, "J003", "R2", "重复收费", 2, "H001", "35.50", "MD03", "ST03", "静脉输液"),
    (1, "J004", "R2", "重复收费", 2, "H003", "8.00", "MD04", None, "静脉输液"),
    (1, "J005", "R2", "重复收费", 2, "H002", "1000.00", "MD05", "ST05", "血常规"),
]


def pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _with_database(url: str, name: str) -> str:
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


class PgDatabases:
    """Creates and drops the databases of one test session."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.prefix = f"fgwf_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self.template: str | None = None
        self.shared: str | None = None
        self.counter = 0

    def _create(self, name: str, template: str | None = None) -> str:
        engine = _admin_engine(self.admin_url)
        with engine.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
            # test data need not survive a crash: no fsync wait per commit
            c.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        engine.dispose()
        self.created.append(name)
        return _with_database(self.admin_url, name)

    def empty(self) -> str:
        self.counter += 1
        return self._create(f"{self.prefix}_{self.counter}")

    def migrated(self, settings: Settings) -> str:
        """A migrated database with empty tables: one per session, emptied before each test (triggers are
        suspended for the reset only, as superuser); a fresh copy of a template when that is not allowed."""
        if self.shared is None:
            self.shared = self._create(f"{self.prefix}_shared")
            db = WorkflowDB(self.shared, settings=settings)
            db.upgrade()
            db.dispose()
            return self.shared
        engine = sa.create_engine(self.shared, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as c:
                c.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for table in RESET_TABLES:              # children first; DELETE beats TRUNCATE on tiny tables
                    c.exec_driver_sql(f"DELETE FROM {table}")
            return self.shared
        except sa.exc.DBAPIError:                       # not a superuser: a new database per test
            if self.template is None:
                self.template = f"{self.prefix}_tpl"
                db = WorkflowDB(self._create(self.template), settings=settings)
                db.upgrade()
                db.dispose()
            self.counter += 1
            return self._create(f"{self.prefix}_{self.counter}", template=self.template)
        finally:
            engine.dispose()

    def drop_all(self) -> None:
        engine = _admin_engine(self.admin_url)
        with engine.connect() as c:
            for name in reversed(self.created):
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture(scope="session")
def pg_databases():
    url = pg_admin_url()
    if not url:
        yield None
        return
    dbs = PgDatabases(url)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("wf_template") / "workflow.db"
    db = WorkflowDB(f"sqlite:///{path}", settings=Settings(data_dir=path.parent))
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None)


# PostgreSQL joins only when a server is given (CI always gives one); test_migrations reports the skip once.
BACKENDS = ["sqlite", "postgresql"] if pg_admin_url() else ["sqlite"]


def make_db(backend: str, settings: Settings, tmp_path, sqlite_template, pg_databases) -> WorkflowDB:
    if backend == "postgresql":
        if pg_databases is None:
            pytest.skip(f"未设置 {PG_ENV}，跳过 PostgreSQL（CI 中由 .ci/run 设置）")
        return WorkflowDB(pg_databases.migrated(settings), settings=settings)
    target = tmp_path / "workflow.db"
    shutil.copy(sqlite_template, target)
    return WorkflowDB(f"sqlite:///{target}", settings=settings)


@pytest.fixture(params=BACKENDS)
def db(request, settings, tmp_path, sqlite_template, pg_databases):
    database = make_db(request.param, settings, tmp_path, sqlite_template, pg_databases)
    yield database
    database.dispose()


class Clock:
    """A settable clock: services read the time through it."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    # Monday 2025-03-03, 09:00
    return Clock(dt.datetime(2025, 3, 3, 9, 0))


@dataclass
class World:
    db: WorkflowDB
    clock: Clock
    users: UserService
    items: ItemService
    p: dict[str, Principal]
    con: duckdb.DuckDBPyConnection


def findings_store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    init_engine_schema(con)
    for run_id, jr_id, rule_id, name, sev, code, amt, mdtrt, setl, hilist in FINDINGS:
        con.execute("INSERT INTO findings (run_id, jr_id, rule_id, rule_name, sev_deg, fixmedins_code, vola_amt, "
                    "mdtrt_id, setl_id, hilist_name, vola_cont, psn_no) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    [run_id, jr_id, rule_id, name, sev, code, Decimal(amt), mdtrt, setl, hilist,
                     f"{hilist}：{name}", f"P{jr_id[-2:]}"])
    con.execute("CREATE TABLE setl_d (setl_id VARCHAR, mdtrt_id VARCHAR, setl_time TIMESTAMP, "
                "fixmedins_name VARCHAR)")
    con.execute("INSERT INTO setl_d VALUES ('ST01','MD01','2025-01-20 10:00','市第一人民医院'), "
                "('ST02','MD02','2025-02-03 11:00','市中医院'), ('ST03','MD03','2025-02-14 08:00','市第一人民医院'), "
                "('ST05','MD05','2025-02-28 16:00','市中医院')")
    con.execute("CREATE TABLE mdtrt_d (mdtrt_id VARCHAR, begntime TIMESTAMP, endtime TIMESTAMP, "
                "fixmedins_name VARCHAR)")
    con.execute("INSERT INTO mdtrt_d VALUES ('MD04','2024-12-30 09:00','2025-01-02 09:00','某社区卫生服务中心')")
    return con


@pytest.fixture
def world(db, clock) -> World:
    users = UserService(db, clock=clock, hasher=FAST_HASHER)
    p = {
        "admin": users.create_user("admin", PASSWORD, "admin", "管理员甲"),
        "leader": users.create_user("leader", PASSWORD, "leader", "局长乙"),
        "analyst": users.create_user("analyst", PASSWORD, "analyst", "稽查丙"),
        "reviewer": users.create_user("reviewer", PASSWORD, "reviewer", "审核丁"),
        "reviewer2": users.create_user("reviewer2", PASSWORD, "reviewer", "审核戊"),
        "inst1": users.create_user("inst1", PASSWORD, "institution", "一院医保办", "H001"),
        "inst2": users.create_user("inst2", PASSWORD, "institution", "中医院医保办", "H002"),
    }
    con = findings_store()
    items = ItemService(db, clock=clock)
    assert items.import_findings(con) == len(FINDINGS)
    yield World(db=db, clock=clock, users=users, items=items, p=p, con=con)
    con.close()


def move(world: World, jr_ids: list[str], *steps: str, reason: str = "理由") -> None:
    """Drive items through actions with the right actor for each; every step must succeed."""
    actor = {"first_confirm": "reviewer", "first_dismiss": "reviewer", "second_approve": "reviewer2",
             "second_dismiss": "reviewer2", "second_return": "reviewer2", "push": "reviewer2",
             "investigate": "analyst", "not_confirmed": "analyst"}
    for step in steps:
        if step in ("appeal", "acknowledge"):
            groups: dict[str, list[str]] = {}
            for jr_id in jr_ids:
                code = world.items.get_item(world.p["analyst"], jr_id).fixmedins_code
                groups.setdefault({"H001": "inst1", "H002": "inst2"}[code], []).append(jr_id)
            for who, ids in groups.items():
                results = world.items.transition(world.p[who], ids, step, reason)
                assert all(r.ok for r in results), results
            continue
        results = world.items.transition(world.p[actor[step]], jr_ids, step, reason)
        assert all(r.ok for r in results), results
