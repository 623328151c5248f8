"""The built-in sample knowledge base (written by us, for the demo and the synthetic city)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from fundguard.kb.importer import import_file
from fundguard.kb.schema import RELATION_TYPES

BUILTIN = Path(__file__).parent / "builtin"
POINTS = BUILTIN / "knowledge_points.json"
RELATIONS = BUILTIN / "relations"


def has_points(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM kb_points").fetchone()[0] > 0


def load_relations(con: duckdb.DuckDBPyConnection, directory: Path = RELATIONS, source: str = "builtin") -> int:
    """Load ``<rel_type>.csv`` files (columns code_a, code_b, name_a, name_b, value, note) into kb_relations."""
    rows = []
    for path in sorted(directory.glob("*.csv")) if directory.exists() else []:
        rel_type = path.stem
        if rel_type not in RELATION_TYPES:
            raise ValueError(f"未知的知识关系类型 {rel_type}（文件 {path}）")
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                value = (row.get("value") or "").strip()
                rows.append([rel_type, (row.get("code_a") or "").strip() or None, (row.get("code_b") or "").strip() or None,
                             row.get("name_a") or None, row.get("name_b") or None, float(value) if value else None,
                             row.get("note") or None, source])
    con.execute("DELETE FROM kb_relations WHERE source = ?", [source])
    if rows:
        con.executemany("INSERT INTO kb_relations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def ensure_builtin(con: duckdb.DuckDBPyConnection, *, points: bool = True) -> dict[str, int]:
    """Load the project relations always, and the sample knowledge points when the store has none."""
    loaded = {"relations": load_relations(con)}
    if points and not has_points(con) and POINTS.exists():
        loaded["points"] = import_file(con, POINTS).points_new
    return loaded
