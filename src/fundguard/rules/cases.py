"""Golden cases: a few hand-written input rows and the findings one rule must (and must not) give.

A case's ``given`` holds rows per table (columns a case does not mention take the defaults below, so a
case shows only what matters) and ``kb``, knowledge points in the JSON import shape. ``expect`` lists
the findings; each expected finding is compared on the keys it names. ``expect: []`` means the rule
must not fire.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

import duckdb

from fundguard.ingest.tables import TABLES
from fundguard.store.db import connect, quote

ENCOUNTER_DEFAULTS = {"psn_no": "P1", "fixmedins_code": "H1", "gend": "1", "brdy": "1980-01-01",
                      "insutype": "310", "hosp_lv": "05", "med_type": "11", "begntime": "2025-03-01 08:00:00"}


@dataclass
class CaseResult:
    name: str
    expected: list[dict]
    actual: list[dict]

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def _fill(table: str, row: dict, enc: dict[str, dict]) -> dict:
    row = {k: v for k, v in row.items()}
    if table == "mdtrt_d":
        for k, v in ENCOUNTER_DEFAULTS.items():
            row.setdefault(k, v)
        row.setdefault("endtime", row["begntime"])
    elif table == "fee_list_d":
        e = enc.get(row.get("mdtrt_id"), {})
        row.setdefault("setl_id", "S-" + str(row.get("mdtrt_id")))
        row.setdefault("psn_no", e.get("psn_no", "P1"))
        row.setdefault("fixmedins_code", e.get("fixmedins_code", "H1"))
        row.setdefault("fee_ocur_time", e.get("begntime", "2025-03-01 08:00:00"))
        row.setdefault("hilist_name", row.get("hilist_code"))
        row.setdefault("med_chrgitm_type", "09")
        row.setdefault("cnt", 1)
        if "det_item_fee_sumamt" not in row:
            row["det_item_fee_sumamt"] = decimal.Decimal(str(row.get("pric", 10))) * decimal.Decimal(str(row["cnt"]))
        row.setdefault("pric", decimal.Decimal(str(row["det_item_fee_sumamt"])) / decimal.Decimal(str(row["cnt"] or 1)))
    elif table in ("setl_list_diag_d", "setl_list_oprn_d"):
        row.setdefault("psn_no", enc.get(row.get("mdtrt_id"), {}).get("psn_no", "P1"))
    return row


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    spec = TABLES[table]
    for n, row in enumerate(rows, start=1):
        unknown = [c for c in row if c not in spec.columns]
        if unknown:
            raise ValueError(f"用例表 {table} 第 {n} 行有未知列：{unknown}")
        cols = list(row)
        con.execute(f"INSERT INTO {table} ({', '.join(quote(c) for c in cols)}, _batch_id, _src_line) "
                    f"VALUES ({', '.join('?' for _ in cols)}, 0, {n})",
                    [None if row[c] is None else str(row[c]) if isinstance(row[c], (int, float, decimal.Decimal,
                                                                                     dt.date)) else row[c]
                     for c in cols])


def build_store(given: dict[str, Any], con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    from fundguard.kb.importer import import_points

    con = con or connect(":memory:")
    encounters = [_fill("mdtrt_d", r, {}) for r in given.get("mdtrt_d", [])]
    enc = {r["mdtrt_id"]: r for r in encounters}
    for table in TABLES:
        rows = encounters if table == "mdtrt_d" else [_fill(table, r, enc) for r in given.get(table, [])]
        if rows:
            _insert(con, table, rows)
    # Settlements the case does not spell out: the fund pays exactly the in-scope amount (ratio 1).
    con.execute("""
        INSERT INTO setl_d (setl_id, mdtrt_id, psn_no, fixmedins_code, setl_time, medfee_sumamt, hifp_pay,
                            fund_pay_sumamt, _batch_id)
        SELECT f.setl_id, any_value(f.mdtrt_id), any_value(f.psn_no), any_value(f.fixmedins_code),
               max(f.fee_ocur_time), sum(f.det_item_fee_sumamt),
               sum(coalesce(f.inscp_amt, f.det_item_fee_sumamt)), sum(coalesce(f.inscp_amt, f.det_item_fee_sumamt)), 0
        FROM fee_list_d f WHERE f.setl_id NOT IN (SELECT setl_id FROM setl_d) GROUP BY f.setl_id""")
    if given.get("kb"):
        result = import_points(con, given["kb"], "golden-case")
        if result.rejected:
            raise ValueError(f"用例知识点无效：{result.rejected}")
    for rel in given.get("kb_relations", []):
        cols = ("rel_type", "code_a", "code_b", "name_a", "name_b", "value", "note", "source")
        unknown = [c for c in rel if c not in cols]
        if unknown:
            raise ValueError(f"kb_relations 有未知列：{unknown}")
        con.execute("INSERT INTO kb_relations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [rel.get(c, "golden-case" if c == "source" else None) for c in cols])
    return con


def _comparable(value: Any) -> Any:
    if isinstance(value, (decimal.Decimal, float)):
        return str(decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01")))
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return value
    return value


def run_case(rule, case: dict, engine: str = "duckdb") -> CaseResult:
    from fundguard.engine.runner import run_audit

    con = build_store(case.get("given") or {})
    try:
        engine_obj = None
        if engine == "spark":
            from fundguard.engine.adapters import SparkEngine

            engine_obj = SparkEngine.from_store(con, small=True)
        try:
            run = run_audit(con, rules=[rule], engine=engine, engine_obj=engine_obj,
                            params={rule.rule_id: case.get("params") or {}})
        finally:
            if engine_obj is not None:
                engine_obj.close()
        failed = [r for r in run.results if r.status != "ok"]
        if failed:
            raise RuntimeError(f"规则 {rule.rule_id} 执行失败：{failed[0].message}")
        source_ids = dict(con.execute(
            "SELECT kp_id, any_value(source_id) FROM kb_point_sources GROUP BY kp_id").fetchall())
        found = con.execute("SELECT * FROM findings WHERE run_id = ? ORDER BY mdtrt_id, psn_no, bkkp_sn, kp_id",
                            [run.run_id]).fetchall()
        names = [d[0] for d in con.description]
        rows = [dict(zip(names, r)) for r in found]
        for row in rows:
            row["kp"] = source_ids.get(row["kp_id"])
        expected = [{k: _comparable(v) for k, v in e.items()} for e in case.get("expect") or []]
        keys = sorted({k for e in expected for k in e}) or ["mdtrt_id"]
        actual = [{k: _comparable(row.get(k)) for k in keys} for row in rows]
        expected = [{k: e.get(k) for k in keys} for e in expected]
        sort = lambda d: tuple(str(d.get(k)) for k in keys)  # noqa: E731
        return CaseResult(case.get("name", "?"), sorted(expected, key=sort), sorted(actual, key=sort))
    finally:
        con.close()
