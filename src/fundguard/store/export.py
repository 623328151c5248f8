"""Parquet (and CSV/xlsx) export of any table of the analytic store."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.errors import StoreError
from fundguard.store.db import quote


def list_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]


def copy_query(con: duckdb.DuckDBPyConnection, query: str, out: Path) -> None:
    """Write a query's rows to .parquet (zstd) or .csv (UTF-8 with BOM, so Excel/WPS open it correctly)."""
    target = out.as_posix().replace("'", "''")
    if out.suffix.lower() == ".parquet":
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        return
    tmp = out.with_suffix(".csv.part")
    con.execute(f"COPY ({query}) TO '{tmp.as_posix()}' (FORMAT csv, HEADER true)")
    with open(out, "wb") as dst, open(tmp, "rb") as src:
        dst.write("\ufeff".encode())
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    tmp.unlink()


def export_table(con: duckdb.DuckDBPyConnection, table: str, out: str | Path) -> int:
    """Write ``table`` to ``out`` (.parquet, or .csv with BOM for Excel). Returns the row count."""
    tables = list_tables(con)
    if table not in tables:
        raise StoreError(f"分析库中没有表 {table!r}；现有的表：{', '.join(tables)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise StoreError(f"不支持的导出格式 {suffix!r}：请使用 .parquet 或 .csv")
    copy_query(con, f"SELECT * FROM {quote(table)}", out)
    return con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
