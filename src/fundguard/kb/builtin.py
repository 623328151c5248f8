"""The built-in sample knowledge base (written by us, for the demo and the synthetic city)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from fundguard.kb.importer import import_file

BUILTIN = Path(__file__).parent / "builtin"
POINTS = BUILTIN / "knowledge_points.json"


def has_points(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM kb_points").fetchone()[0] > 0


def _csv(name: str) -> list[dict[str, str]]:
    with open(BUILTIN / name, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _num(text: str) -> float | None:
    return float(text) if text else None


def builtin_relations() -> list[list]:
    """Our own project knowledge tables (kb/builtin/*.csv, documented in docs/synth.md) as kb_relations rows."""
    rows: list[list] = []

    def add(rel_type, code_a, code_b=None, name_a=None, name_b=None, value=None, note=None):
        rows.append([rel_type, code_a or None, code_b or None, name_a or None, name_b or None, value, note or None,
                     "builtin"])

    for r in _csv("service_consumable_included.csv"):
        add("service_consumable", r["service_code"], r["consumable_code"], r["service_name"], r["consumable_name"],
            note=r.get("note"))
    for r in _csv("bundle_items.csv"):
        add("bundle_part", r["bundle_code"], r["part_code"], r["bundle_name"], r["part_name"])
    for r in _csv("substitution_pairs.csv"):
        add("substitution", r["low_code"], r["high_code"], r["low_name"], r["high_name"], note=r.get("kind"))
    for r in _csv("nonmed_goods.csv"):
        add("non_medical_goods", r["goods_code"], None, r["goods_name"], None, _num(r.get("ref_price", "")),
            r.get("category"))
    for r in _csv("diag_related_groups.csv"):
        for prefix in filter(None, r["icd3_prefixes"].split(";")):
            add("diag_family", prefix.strip(), r["group_id"], None, r["group_name"])
    for r in _csv("planned_readmission_dx.csv"):
        add("planned_cycle", r["diag_prefix"], None, r["diag_name"], None, note=r.get("reason"))
    for r in _csv("light_diagnoses.csv"):
        add("light_diag", r["diag_code"], None, r["diag_name"])
    for r in _csv("item_prac_scope.csv"):
        add("item_subject", r["hilist_code"], r["prac_scope"], r["hilist_name"], r["scope_name"])
    for r in _csv("diagnoses.csv"):
        if r.get("gend_limit") in ("1", "2"):
            add("diag_gender", r["diag_code"], r["gend_limit"], r["diag_name"])
        if r.get("age_max"):
            add("diag_age", r["diag_code"], None, r["diag_name"], None, _num(r["age_max"]), "max")
        elif r.get("age_max_days"):
            add("diag_age", r["diag_code"], None, r["diag_name"], None, round(float(r["age_max_days"]) / 365.25, 4),
                "max")
        if r.get("age_min"):
            add("diag_age", r["diag_code"], None, r["diag_name"], None, _num(r["age_min"]), "min")
    for r in _csv("operations.csv"):
        if r.get("gend_limit") in ("1", "2"):
            add("oprn_gender", r["oprn_oprt_code"], r["gend_limit"], r["oprn_oprt_name"])
    return rows


def load_builtin_relations(con: duckdb.DuckDBPyConnection) -> int:
    rows = builtin_relations()
    con.execute("DELETE FROM kb_relations WHERE source = 'builtin'")
    con.executemany("INSERT INTO kb_relations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def ensure_builtin(con: duckdb.DuckDBPyConnection, *, points: bool = True) -> dict[str, int]:
    """Load the project relations always, and the sample knowledge points when the store has none."""
    loaded = {"relations": load_builtin_relations(con)}
    if points and not has_points(con) and POINTS.exists():
        loaded["points"] = import_file(con, POINTS).points_new
    return loaded
