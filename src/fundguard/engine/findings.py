"""Turn a rule's offending rows into findings: grouping, stable ids, amounts, Chinese texts, evidence.

Amount (vola_amt): the fund-paid share of the violating fee. For a line, the violating part of its fee
(``vola_fee``, default the whole line) divided by the line's fee, times the line's fund share
(``line_fund``, see workset). Summed over the finding's lines and rounded to the cent. Rules whose
violation is the whole encounter (``amount: encounter``) take the encounter's fund share instead.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
import string
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from fundguard.engine.sqltools import OPTIONAL
from fundguard.rules.library import Rule
from fundguard.rules.model import VOLA_BHVR_TYPES

KEY = ("mdtrt_id", "psn_no", "fixmedins_code", "kp_id", "grp")
# Per-finding columns built in Python (run and rule columns are bound once per INSERT).
_FINDING_COLUMNS = ("jr_id", "mdtrt_id", "setl_id", "psn_no", "fixmedins_code", "hilist_code", "hilist_name", "bkkp_sn",
                    "line_cnt", "vola_fee", "vola_amt", "vola_cont", "vola_evid", "kp_id", "bilg_dr_code", "grp",
                    "evidence")
INTERNAL = {"__fee", "__line_fund", "__enc_fund"}
GEND = {"1": "男", "2": "女"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, decimal.Decimal)):
        return f"{decimal.Decimal(str(value)).quantize(decimal.Decimal('0.01'))}".rstrip("0").rstrip(".") \
            if decimal.Decimal(str(value)) != decimal.Decimal(str(value)).to_integral() else str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


_FORMATTER = string.Formatter()


@functools.cache
def _parsed(template: str) -> tuple[tuple[str, str | None, str, str | None], ...]:
    return tuple(_FORMATTER.parse(template))


def render_message(template: str, fields: dict[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by the field's text ("" when absent); ``{gend_name}`` is
    the Chinese name of a ``gend`` field. Only the names the template uses are converted."""
    out = []
    for literal, name, spec, conversion in _parsed(template):
        out.append(literal)
        if name is None:
            continue
        if name == "gend_name" and "gend" in fields:
            value = GEND.get(str(fields["gend"]), "未知")
        else:
            value = _text(fields[name]) if name in fields else ""
        if conversion:
            value = _FORMATTER.convert_field(value, conversion)
        out.append(format(value, spec) if spec else value)
    return "".join(out)


def _normalise(hits: pa.Table) -> pa.Table:
    for col in OPTIONAL:
        if col not in hits.column_names:
            hits = hits.append_column(col, pa.nulls(hits.num_rows, pa.string() if col != "vola_fee" else pa.float64()))
    for col in ("grp", "kp_id", "bkkp_sn", "mdtrt_id", "psn_no", "fixmedins_code", "setl_id", "hilist_code"):
        idx = hits.column_names.index(col)
        if not pa.types.is_string(hits.schema.field(idx).type):
            hits = hits.set_column(idx, col, hits.column(col).cast(pa.string()))
    return hits


def assemble(con: duckdb.DuckDBPyConnection, run_id: int, rule: Rule, hits: pa.Table,
             params: dict[str, Any]) -> tuple[int, decimal.Decimal]:
    """Store the findings of one rule; returns (number of findings, total vola_amt)."""
    if hits.num_rows == 0:
        return 0, decimal.Decimal("0")
    hits = _normalise(hits)
    con.register("__hits", hits)
    keys = ", ".join(KEY)
    rep_struct = "{" + ", ".join(f"'{c}': \"{c}\"" for c in hits.column_names if c not in INTERNAL) + "}"
    try:
        grouped = con.execute(f"""
            WITH per_line AS (
                SELECT {keys}, bkkp_sn,
                       max(coalesce(CAST(vola_fee AS DOUBLE), CAST(__fee AS DOUBLE))) AS vola_fee,
                       max(CASE WHEN __fee IS NULL OR __fee = 0 THEN 0
                                ELSE coalesce(CAST(vola_fee AS DOUBLE), CAST(__fee AS DOUBLE)) / CAST(__fee AS DOUBLE)
                                     * __line_fund END) AS amt,
                       max(__enc_fund) AS enc_fund,
                       min(setl_id) AS setl_id, min(hilist_code) AS hilist_code, min(hilist_name) AS hilist_name,
                       min(bilg_dr_code) AS bilg_dr_code,
                       min(to_json({rep_struct})::VARCHAR) AS rep
                FROM __hits GROUP BY ALL)
            SELECT {keys},
                   array_to_string(list_sort(list(bkkp_sn) FILTER (WHERE bkkp_sn IS NOT NULL)), ';') AS bkkp_list,
                   count(bkkp_sn) AS line_cnt, sum(vola_fee) AS vola_fee, sum(amt) AS amt, max(enc_fund) AS enc_fund,
                   arg_min(setl_id, coalesce(bkkp_sn, '')) AS setl_id,
                   arg_min(hilist_code, coalesce(bkkp_sn, '')) AS hilist_code,
                   arg_min(hilist_name, coalesce(bkkp_sn, '')) AS hilist_name,
                   arg_min(bilg_dr_code, coalesce(bkkp_sn, '')) AS bilg_dr_code,
                   arg_min(rep, coalesce(bkkp_sn, '')) AS rep
            FROM per_line GROUP BY {keys}""").fetchall()
    finally:
        con.unregister("__hits")
    names = [*KEY, "bkkp_list", "line_cnt", "vola_fee", "amt", "enc_fund", "setl_id", "hilist_code",
             "hilist_name", "bilg_dr_code", "rep"]
    kp_info = _kp_info(con, {r[3] for r in grouped if r[3]})
    meta = rule.meta
    cents = decimal.Decimal("0.01")
    columns: dict[str, list] = {name: [] for name in _FINDING_COLUMNS}
    total = decimal.Decimal("0")
    evidence_by_kp: dict[str | None, str] = {}
    for values in grouped:
        g = dict(zip(names, values))
        rep = orjson.loads(g["rep"]) if g["rep"] else {}
        amount = g["enc_fund"] if meta.amount == "encounter" else g["amt"]
        vola_amt = decimal.Decimal(str(amount or 0)).quantize(cents, rounding=decimal.ROUND_HALF_UP)
        total += vola_amt
        kp = kp_info.get(g["kp_id"]) or {}
        fields = {**{f"kp_{k}": v for k, v in kp.items()}, **params, **rep,
                  "vola_amt": vola_amt, "line_cnt": g["line_cnt"], "bkkp_sn": g["bkkp_list"]}
        ident = "|".join([meta.rule_id, *(str(g[k] or "") for k in KEY), g["bkkp_list"] or ""])
        evid = evidence_by_kp.get(g["kp_id"])
        if evid is None:
            evid = evidence_by_kp[g["kp_id"]] = evidence_text(rule, kp, params)
        # Decimals travel as text and are cast by the INSERT (exact, and far cheaper than Arrow decimals).
        for name, value in (
                ("jr_id", "JR" + hashlib.md5(ident.encode()).hexdigest()[:24].upper()),
                ("mdtrt_id", g["mdtrt_id"]), ("setl_id", g["setl_id"]), ("psn_no", g["psn_no"]),
                ("fixmedins_code", g["fixmedins_code"]), ("hilist_code", g["hilist_code"]),
                ("hilist_name", g["hilist_name"]), ("bkkp_sn", g["bkkp_list"] or None), ("line_cnt", g["line_cnt"]),
                ("vola_fee", str(decimal.Decimal(str(g["vola_fee"] or 0)).quantize(cents, rounding=decimal.ROUND_HALF_UP))),
                ("vola_amt", str(vola_amt)), ("vola_cont", render_message(meta.message, fields)), ("vola_evid", evid),
                ("kp_id", g["kp_id"]), ("bilg_dr_code", g["bilg_dr_code"]), ("grp", g["grp"]),
                ("evidence", json.dumps(rep, ensure_ascii=False, default=str))):
            columns[name].append(value)
    table = pa.table({name: pa.array(values, pa.int64() if name == "line_cnt" else pa.string())
                      for name, values in columns.items()})
    con.register("__findings", table)
    try:
        con.execute(f"""INSERT INTO findings (run_id, rule_id, rule_name, sev_deg, vola_bhvr_type, {', '.join(columns)})
                        SELECT ?, ?, ?, ?, ?, {', '.join(f'CAST({c} AS DECIMAL(18,2))' if c in ('vola_fee', 'vola_amt')
                                                         else c for c in columns)} FROM __findings""",
                    [run_id, meta.rule_id, meta.name, meta.sev_deg, meta.vola_bhvr_type])
    finally:
        con.unregister("__findings")
    return len(grouped), total


def _kp_info(con, kp_ids: set[str]) -> dict[str, dict]:
    if not kp_ids:
        return {}
    rows = con.execute(
        """SELECT kp_id, rule_class, item_name, constraint_text, detect_logic, batch, published_at, gz_code
           FROM kb_points WHERE kp_id IN (SELECT unnest(?::VARCHAR[]))""", [sorted(kp_ids)]).fetchall()
    cols = ("kp_id", "rule_class", "item_name", "constraint_text", "detect_logic", "batch", "published_at", "gz_code")
    return {r[0]: dict(zip(cols, r)) for r in rows}


def evidence_text(rule: Rule, kp: dict, params: dict[str, Any]) -> str:
    meta = rule.meta
    parts = []
    if kp:
        batch = kp.get("batch") or "—"
        batch_text = f"第{batch}批" if str(batch).isdigit() else str(batch)
        parts.append(f"知识点 {kp['kp_id']}（{batch_text}；{kp.get('rule_class')}；{kp.get('item_name')}；"
                     f"限定：{kp.get('constraint_text') or '—'}；检出逻辑：{kp.get('detect_logic') or '—'}）")
    declared = {k: v for k, v in params.items() if k in meta.params}
    if declared:
        parts.append("规则参数：" + "，".join(f"{meta.params[k].desc}={_text(v)}" for k, v in declared.items()))
    parts.append(f"依据：{meta.basis}")
    parts.append(f"法律依据：{meta.legal}")
    parts.append(f"违规类别：{VOLA_BHVR_TYPES[meta.vola_bhvr_type]}")
    return "；".join(parts)
