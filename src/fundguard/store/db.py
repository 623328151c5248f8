"""DuckDB connections and the analytic schema (input tables + load bookkeeping)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from fundguard.config import Settings, get_settings
from fundguard.errors import StoreError
from fundguard.ingest.tables import ALL_TABLES, TableSpec

# Bookkeeping columns appended to every input table.
META_COLUMNS = (("_batch_id", "BIGINT"), ("_src_line", "BIGINT"), ("_row_hash", "UBIGINT"))

BOOKKEEPING_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS seq_load_batch START 1",
    """CREATE TABLE IF NOT EXISTS load_batches (
        batch_id BIGINT PRIMARY KEY, table_name VARCHAR, file_name VARCHAR, file_path VARCHAR,
        file_hash VARCHAR, file_size BIGINT, file_format VARCHAR, encoding VARCHAR,
        started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
        rows_in BIGINT, rows_inserted BIGINT, rows_replaced BIGINT, rows_unchanged BIGINT,
        rows_rejected BIGINT, ignored_columns VARCHAR, message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS load_rejects (
        batch_id BIGINT, table_name VARCHAR, file_name VARCHAR, line BIGINT, column_name VARCHAR,
        value VARCHAR, reason_code VARCHAR, reason VARCHAR, raw_record VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS load_replacements (
        batch_id BIGINT, table_name VARCHAR, natural_key VARCHAR, old_batch_id BIGINT,
        old_src_line BIGINT, new_src_line BIGINT, changed_columns VARCHAR, old_record VARCHAR)""",
)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_ddl(spec: TableSpec) -> str:
    cols = [f"{quote(c)} {t}" for c, t in spec.typed_columns] + [f"{c} {t}" for c, t in META_COLUMNS]
    return f"CREATE TABLE IF NOT EXISTS {spec.name} ({', '.join(cols)})"


def connect(db_path: str | Path | None = None, *, settings: Settings | None = None,
            read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create if needed) the analytic store, with the schema in place."""
    settings = settings or get_settings()
    path = Path(db_path) if db_path else settings.db_path
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:  # locked by another process, corrupt file …
        raise StoreError(f"无法打开分析库 {path}：{exc}") from exc
    threads = settings.threads or os.cpu_count() or 2
    con.execute(f"SET threads={int(threads)}")
    con.execute(f"SET memory_limit='{settings.memory_limit}'")
    if str(path) != ":memory:":
        tmp = path.parent / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory='{tmp.as_posix()}'")
    con.execute("SET preserve_insertion_order=true")
    if not read_only:
        init_schema(con)
    return con


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and add columns a newer version declares (never drops anything)."""
    for ddl in BOOKKEEPING_DDL:
        con.execute(ddl)
    from fundguard.engine.realtime.feedback import init_realtime_schema
    from fundguard.engine.schema import init_engine_schema
    from fundguard.kb.schema import init_kb_schema
    from fundguard.screening.schema import init_screening_schema

    init_kb_schema(con)
    init_engine_schema(con)
    init_realtime_schema(con)
    init_screening_schema(con)
    for spec in ALL_TABLES:
        con.execute(table_ddl(spec))
        existing = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [spec.name]).fetchall()}
        for col, typ in list(spec.typed_columns) + list(META_COLUMNS):
            if col not in existing:
                con.execute(f"ALTER TABLE {spec.name} ADD COLUMN {quote(col)} {typ}")
