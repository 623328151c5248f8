"""The real-time mirror: what a call reads besides its message, copied from the store into one SQLite file.

- the patients' history: the rows of the encounters that began within the history window before the newest
  encounter (``rt_hist_<table>``), each tagged with its person (``__psn``) and encounter start (``__begn``)
  and indexed by person, so that one patient's history is a few index lookups;
- the working set of that history (``rt_ws_<name>``: ``fg_line``, ``fg_enc`` … tagged the same way), computed
  here once by the same transpiled SQL a call runs on its message rows: a working-set row depends on its own
  encounter's rows only, so a call copies the history's rows instead of recomputing them;
- the reference data the real-time rules read (catalogue ``hilist``, ``medins_info``, ``kb_relations`` …),
  the knowledge points joined to their codes (``fg_kb``, the working set's definition) and the points' texts
  that findings cite (``rt_kp``).

Only the columns some rule or the working set reads are copied, in the SQLite representation of ``lite``.
The mirror is rebuilt when the store's signature changes (rows loaded, knowledge imported), into a new file
that replaces the old one; workers reopen it. ``scope`` restricts the history to some persons (a one-off
``fundguard precheck`` copies just the message's patients).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from fundguard.engine.realtime import lite
from fundguard.engine.realtime.mapping import ID_COLUMNS, RAW_TABLES
from fundguard.engine.workset import WORKSET
from fundguard.ingest.tables import TABLES
from fundguard.rules.library import default_library

log = logging.getLogger("fundguard.realtime")
HISTORY_DAYS = 400
_SIGNATURE_SQL = """SELECT (SELECT count(*) FROM mdtrt_d), (SELECT count(*) FROM fee_list_d), (SELECT count(*) FROM setl_d),
       (SELECT count(*) FROM setl_list_diag_d), (SELECT count(*) FROM setl_list_oprn_d), (SELECT count(*) FROM drord_d),
       (SELECT count(*) FROM psn_info), (SELECT max(batch_id) FROM load_batches),
       (SELECT count(*) FROM kb_point_codes), (SELECT max(import_id) FROM kb_imports),
       (SELECT count(*) FROM kb_relations), (SELECT count(*) FROM hilist), (SELECT count(*) FROM medins_info),
       (SELECT count(*) FROM medins_purc), (SELECT count(*) FROM medins_invt)"""
WORKSET_NAMES = tuple(name for name, _ in WORKSET)
MIRROR_FORMAT = 7  # part of the mirror's key with its layout (``layout_key``): an older mirror is rebuilt
# The knowledge-point fields a finding cites (engine.findings._kp_info).
KP_COLUMNS = ("kp_id", "rule_class", "item_name", "constraint_text", "detect_logic", "batch", "published_at", "gz_code")
# Lookups the rules make into reference data (a national catalogue or knowledge base has 10⁵ rows).
REFERENCE_INDEXES = {
    "hilist": (("hilist_code", "begndate"), ("list_type",)),
    "medins_info": (("fixmedins_code",),),
    "medins_purc": (("fixmedins_code", "hilist_code"),),
    "medins_invt": (("fixmedins_code", "hilist_code"),),
    "kb_relations": (("rel_type", "code_a"), ("rel_type", "code_b")),
}


def hist_name(table: str) -> str:
    return f"rt_hist_{table}"


def ws_name(name: str) -> str:
    return f"rt_ws_{name}"


@lru_cache(maxsize=1)
def workset_sqlite() -> dict[str, str]:
    """The working set's SELECTs (but ``fg_kb``, a mirror table of its own) in SQLite SQL, in build order."""
    return {name: lite.to_sqlite(select) for name, select in WORKSET if name != "fg_kb"}


def mentions(sql: str, name: str) -> bool:
    """Whether ``sql`` names the table ``name`` (as a whole word)."""
    return re.search(rf"\b{name}\b", sql) is not None


@lru_cache(maxsize=1)
def rule_workset() -> frozenset[str]:
    """The working-set entries some rule reads directly: those the mirror keeps for the history."""
    return frozenset(n for n in workset_sqlite() for r in default_library() if mentions(r.sql, n))


def store_signature(con: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever the data a real-time answer depends on change."""
    return "|".join(str(v) for v in con.execute(_SIGNATURE_SQL).fetchone())


def _sql_texts() -> list[str]:
    return [r.sql for r in default_library()] + [select for _, select in WORKSET]


@lru_cache(maxsize=1)
def read_columns() -> frozenset[str]:
    """Every column name the rule library or the working set mentions."""
    names: set[str] = set()
    for sql in _sql_texts():
        names |= {c.name for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Column)}
    return frozenset(names)


@lru_cache(maxsize=1)
def reference_tables() -> tuple[str, ...]:
    """Store tables the rules read that are neither a national table of the patient nor the working set."""
    names: set[str] = set()
    for sql in _sql_texts():
        names |= {t.name for t in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table)}
    ctes = {c.alias for sql in _sql_texts() for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.CTE)}
    skip = set(RAW_TABLES) | ctes | set(WORKSET_NAMES) | {"kb_points", "kb_point_codes"}  # those two: as fg_kb
    return tuple(sorted(n for n in names if n not in skip))


@lru_cache(maxsize=1)
def shadow_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """Per national table of the patient: (column, DuckDB type) of the columns anything reads, plus identifiers."""
    names = read_columns()
    out = {}
    for table in RAW_TABLES:
        keep = names | set(ID_COLUMNS[table]) | {"vali_flag"}
        out[table] = tuple((c, t) for c, t in TABLES[table].typed_columns if c in keep)
    return out


@lru_cache(maxsize=1)
def layout_key() -> str:
    """Changes with what the mirror holds: the columns and tables the rule library and the working set read (a
    mirror left by a release whose rules read other columns is rebuilt, not reused)."""
    layout = repr((MIRROR_FORMAT, shadow_columns(), reference_tables(), KP_COLUMNS))
    return hashlib.sha256(layout.encode()).hexdigest()[:16]


class HistoryStore:
    """Keeps the mirror current. ``ensure`` is cheap when nothing changed (the store's signature is checked at
    most every ``check_every`` seconds); ``version`` changes with every rebuild and ``path`` names the file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, days: int | None = HISTORY_DAYS, check_every: float = 5.0,
                 path: str | Path | None = None, scope: set[str] | None = None):
        self.con = con
        self.days = days
        self.check_every = check_every
        self.scope = scope
        self._own_dir = None
        if path is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="fg-realtime-")
            path = Path(self._own_dir.name) / "mirror.sqlite"
        self.path = str(path)
        self.signature: str | None = None
        self.version = 0
        self._checked = 0.0
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None

    @staticmethod
    def path_for(db_path: str | Path) -> Path:
        """Where the gateway keeps the mirror of a store file: next to it."""
        return Path(str(db_path) + ".realtime.sqlite")

    def current(self) -> int | None:
        """The current mirror's version when it was checked against the store recently enough; else None
        (call ``ensure``, which may query the store)."""
        if self.signature is not None and time.monotonic() - self._checked < self.check_every:
            return self.version
        return None

    def ensure(self, force: bool = False) -> int:
        """The current mirror's version. A stale mirror is rebuilt in the background while calls keep using
        the old one; the first build, and a forced one (``force``), happen before returning."""
        now = time.monotonic()
        if not force and self.signature is not None and now - self._checked < self.check_every:
            return self.version
        with self._lock:
            if self._building is not None and not force:
                return self.version
            cur = self.con.cursor()
            try:
                key = f"{layout_key()}|{store_signature(cur)}|{self.days}|{sorted(self.scope or [])}"
                self._checked = time.monotonic()
                if self.signature is None and not force and self._built_key() == key:
                    self.version += 1  # a mirror of the same data, left by an earlier run
                    self.signature = key
                elif force or self.signature is None or not os.path.exists(self.path):
                    self._rebuild(cur, key)
                    self.version += 1
                    self.signature = key
                elif key != self.signature:
                    self._building = threading.Thread(target=self._rebuild_later, args=(key,), daemon=True,
                                                      name="fg-realtime-mirror")
                    self._building.start()
            finally:
                cur.close()
        return self.version

    def _rebuild_later(self, key: str) -> None:
        cur = self.con.cursor()
        try:
            self._rebuild(cur, key)
            with self._lock:
                self.version += 1
                self.signature = key
        except Exception:
            log.exception("real-time mirror rebuild failed")
        finally:
            cur.close()
            with self._lock:
                self._building = None

    def close(self) -> None:
        building = self._building
        if building is not None:
            building.join(timeout=600)
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None

    # ---- building ---------------------------------------------------------------------------------------
    def _built_key(self) -> str | None:
        if not os.path.exists(self.path):
            return None
        try:
            con = lite.connect(f"file:{self.path}?mode=ro")
            try:
                row = con.execute("SELECT value FROM rt_mirror WHERE key = 'signature'").fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def _rebuild(self, cur: duckdb.DuckDBPyConnection, key: str) -> None:
        tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        if os.path.exists(tmp):
            os.remove(tmp)
        out = lite.connect(tmp)
        try:
            out.execute("PRAGMA journal_mode = OFF")
            out.execute("PRAGMA synchronous = OFF")
            out.execute("BEGIN")
            existing = {r[0] for r in cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
            for table in reference_tables():
                if table not in existing:
                    continue
                cols = [(r[0], r[1]) for r in cur.execute(f"DESCRIBE {table}").fetchall()]
                self._copy(cur, out, table, cols, f"SELECT {{}} FROM {table}")
                names = {c for c, _ in cols}
                for n, index in enumerate(REFERENCE_INDEXES.get(table, ())):
                    if set(index) <= names:
                        out.execute(f"CREATE INDEX {table}_{n} ON {table} ({', '.join(index)})")
            kb_cols = cur.execute(f"DESCRIBE {dict(WORKSET)['fg_kb']}").fetchall()
            self._copy(cur, out, "fg_kb", [(r[0], r[1]) for r in kb_cols], f"SELECT {{}} FROM ({dict(WORKSET)['fg_kb']})")
            out.execute("CREATE INDEX fg_kb_code ON fg_kb (hilist_code, rule_class)")
            out.execute("CREATE INDEX fg_kb_kp ON fg_kb (kp_id)")  # the other codes of a point (pairs, groups)
            kp_types = {r[0]: r[1] for r in cur.execute("DESCRIBE kb_points").fetchall()}
            self._copy(cur, out, "rt_kp", [(c, kp_types[c]) for c in KP_COLUMNS], "SELECT {} FROM kb_points")
            out.execute("CREATE INDEX rt_kp_id ON rt_kp (kp_id)")
            for table, cols in shadow_columns().items():
                cols = list(cols) + [("__psn", "VARCHAR"), ("__begn", "TIMESTAMP")]
                self._copy(cur, out, hist_name(table), cols, self._history_select(table))
                out.execute(f"CREATE INDEX {hist_name(table)}_psn ON {hist_name(table)} (__psn, __begn)")
            self._history_workset(out)
            out.execute("CREATE TABLE rt_mirror (key TEXT PRIMARY KEY, value TEXT)")
            out.execute("INSERT INTO rt_mirror VALUES ('signature', ?)", (key,))
            out.execute("PRAGMA analysis_limit = 1000")
            out.execute("ANALYZE")  # statistics for the planner: a national catalogue or knowledge base is large
            out.execute("COMMIT")
        finally:
            out.close()
        os.replace(tmp, self.path)

    @staticmethod
    def _history_workset(out: sqlite3.Connection) -> None:
        """``rt_ws_<name>``: the working set of the history rows, tagged with each row's encounter's person and
        start. Temporary views named like the national tables (and like the entries built so far) let the
        working-set SQL read the history tables as a call's SQL reads its own; entries no rule reads (``fg_fee``)
        stay temporary."""
        for table, cols in shadow_columns().items():
            out.execute(f"CREATE TEMP VIEW {table} AS SELECT {', '.join(lite._ident(c) for c, _ in cols)} "
                        f"FROM main.{hist_name(table)}")
        out.execute("CREATE TEMP TABLE __tags (mdtrt_id TEXT PRIMARY KEY, __psn TEXT, __begn TEXT)")
        out.execute(f"INSERT INTO temp.__tags SELECT mdtrt_id, min(__psn), min(__begn) "
                    f"FROM main.{hist_name('mdtrt_d')} WHERE mdtrt_id IS NOT NULL GROUP BY mdtrt_id")
        kept = rule_workset()
        for name, select in workset_sqlite().items():
            if name not in kept:
                out.execute(f"CREATE TEMP TABLE {name} AS {select}")
                continue
            table = ws_name(name)
            out.execute(f"CREATE TABLE {table} AS SELECT w.*, t.__psn AS __psn, t.__begn AS __begn "
                        f"FROM ({select}) AS w JOIN temp.__tags AS t ON t.mdtrt_id = w.mdtrt_id "
                        "ORDER BY t.__psn, t.__begn")  # a person's rows on adjacent pages
            out.execute(f"CREATE INDEX {table}_psn ON {table} (__psn, __begn)")
            cols = [r[1] for r in out.execute(f"PRAGMA main.table_info({table})") if r[1] not in ("__psn", "__begn")]
            out.execute(f"CREATE TEMP VIEW {name} AS SELECT {', '.join(lite._ident(c) for c in cols)} FROM main.{table}")

    def _history_select(self, table: str) -> str:
        scope = ""
        if self.scope is not None:
            people = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(self.scope)) or "NULL"
            scope = f" AND m.psn_no IN ({people})"
        cutoff = ("" if self.days is None else
                  f" AND m.begntime >= (SELECT max(begntime) FROM mdtrt_d) - INTERVAL ({int(self.days)}) DAY")
        if table == "psn_info":
            return ("SELECT {} FROM (SELECT p.*, p.psn_no AS __psn, CAST(NULL AS TIMESTAMP) AS __begn FROM psn_info p "
                    "WHERE coalesce(p.psn_no, '') <> ''" + scope.replace("m.psn_no", "p.psn_no") + ")")
        if table == "mdtrt_d":
            return ("SELECT {} FROM (SELECT m.*, m.psn_no AS __psn, m.begntime AS __begn FROM mdtrt_d m "
                    f"WHERE true{cutoff}{scope})")
        return (f"SELECT {{}} FROM (SELECT t.*, m.psn_no AS __psn, m.begntime AS __begn FROM {table} t "
                f"JOIN mdtrt_d m ON m.mdtrt_id = t.mdtrt_id WHERE true{cutoff}{scope})")

    @staticmethod
    def _copy(cur, out, name: str, cols: list[tuple[str, str]], select: str) -> None:
        cols = [(c, t) for c, t in cols if not c.startswith("_") or c in ("__psn", "__begn")]
        out.execute(f"CREATE TABLE {name} ({', '.join(f'{lite._ident(c)} {lite.affinity(t)}' for c, t in cols)})")
        cur.execute(select.format(", ".join(lite.duck_select(c, t) for c, t in cols)))
        insert = f"INSERT INTO {name} VALUES ({', '.join('?' for _ in cols)})"
        while True:
            rows = cur.fetchmany(20_000)
            if not rows:
                break
            out.executemany(insert, rows)
