"""From rule rows to the 3101/3102 answer: findings as the batch engine forms them, then result DTOs.

The grouping is the batch engine's (``engine.findings.assemble``): rows with equal (mdtrt_id, psn_no,
fixmedins_code, kp_id, grp) form one finding; a line's amount is its violating share times its fund share;
``jr_id`` hashes the rule, those keys and the sorted line ids, so the same violation gets the same id here
and in a batch audit. Texts come from the same functions (``render_message``, ``evidence_text``).
"""

from __future__ import annotations

import decimal
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from fundguard.engine.findings import KEY, evidence_text, render_message
from fundguard.engine.realtime.mapping import Universe
from fundguard.rules.library import Rule

CENTS = decimal.Decimal("0.01")
# vola_amt_stas: 1 = computed with the encounter's fund payment; 2 = estimated (no fund amount in the request
# yet: the fund is taken to pay the in-scope part of each line).
AMOUNT_COMPUTED, AMOUNT_ESTIMATED = "1", "2"
# Row layout of executor.run: rule, then lite.KEY_COLUMNS, vola_fee, __fee, __line_fund, __enc_fund, then the
# values of the evidence row (from R_REP on; their names: ``Executor.rep_names``).
(R_RULE, R_MDTRT, R_PSN, R_FIXMEDINS, R_KP, R_GRP, R_BKKP, R_SETL, R_HILIST, R_HILIST_NAME, R_DR, R_VOLA_FEE, R_FEE,
 R_LINE_FUND, R_ENC_FUND, R_REP) = range(16)


def _cents(value: Any) -> decimal.Decimal:
    return decimal.Decimal(str(value or 0)).quantize(CENTS, rounding=decimal.ROUND_HALF_UP)


def _max(values):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _min(values):
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _fund_share(row: tuple) -> float | None:
    """A row's violating amount paid by the fund: its violating share of the line's fee times the line's fund."""
    fee = row[R_FEE]
    if fee is None or fee == 0:
        return 0.0
    if row[R_LINE_FUND] is None:
        return None
    return (row[R_VOLA_FEE] if row[R_VOLA_FEE] is not None else fee) / fee * row[R_LINE_FUND]


def _sum(values):
    present = [v for v in values if v is not None]
    return sum(present) if present else None


@dataclass
class Finding:
    rule: Rule
    jr_id: str
    mdtrt_id: str
    psn_no: str
    fixmedins_code: str | None
    kp_id: str | None
    grp: str | None
    lines: list[tuple[str, decimal.Decimal]]  # (bkkp_sn, the line's vola_amt), sorted by bkkp_sn
    vola_amt: decimal.Decimal
    vola_cont: str
    vola_evid: str
    setl_id: str | None = None
    hilist_code: str | None = None
    hilist_name: str | None = None
    evidence: dict = field(default_factory=dict)


def _evidence(names: tuple[str, ...], values: tuple) -> dict[str, Any]:
    """The evidence row of a rule's row: its values by name, and None for the names after them (the optional
    columns the rule lacks)."""
    return dict(zip(names, values + (None,) * (len(names) - len(values))))


def _evidence_text(names: tuple[str, ...], values: tuple) -> bytes:
    """The evidence row as JSON text: the batch engine keeps, of several rows of one line, the least such text."""
    return orjson.dumps(_evidence(names, values))


def group(rows: list[tuple], kp_info: Callable[[set[str]], dict[str, dict]],
          params: dict[str, dict[str, Any]] | None, rep_names: Callable[[Rule], tuple[str, ...]]) -> list[Finding]:
    """Findings of one patient's rows (executor.run; ``rep_names``: the executor's names of their evidence values)."""
    per_line: dict[tuple, list[tuple]] = {}  # (rule_id, *KEY, bkkp_sn) -> the rows of one line
    for row in rows:
        key = (row[R_RULE].rule_id, row[R_MDTRT], row[R_PSN], row[R_FIXMEDINS], row[R_KP], row[R_GRP], row[R_BKKP])
        same = per_line.get(key)
        if same is None:
            per_line[key] = [row]
        else:
            same.append(row)
    # per finding, its lines: (bkkp_sn, amt, enc_fund, setl_id, hilist_code, hilist_name, rep)
    by_finding: dict[tuple, list[tuple]] = {}
    rule_of: dict[str, Rule] = {}
    for key, rs in per_line.items():
        r = rs[0]
        rule_of[key[0]] = r[R_RULE]
        if len(rs) == 1:  # the common case: one row per line
            line = (key[6], _fund_share(r), r[R_ENC_FUND], r[R_SETL], r[R_HILIST], r[R_HILIST_NAME], r[R_REP:])
        else:
            names = rep_names(r[R_RULE])
            line = (key[6], _max(_fund_share(x) for x in rs), _max(x[R_ENC_FUND] for x in rs),
                    _min(x[R_SETL] for x in rs), _min(x[R_HILIST] for x in rs), _min(x[R_HILIST_NAME] for x in rs),
                    min((x[R_REP:] for x in rs), key=lambda values: _evidence_text(names, values)))
        by_finding.setdefault(key[:6], []).append(line)
    kp_ids = {key[4] for key in by_finding if key[4]}
    kps = kp_info(kp_ids) if kp_ids else {}
    rule_params: dict[str, dict[str, Any]] = {}
    evidence: dict[tuple, str] = {}  # (rule_id, kp_id) -> vola_evid
    out = []
    for fkey, lines in by_finding.items():
        rule_id, keys = fkey[0], fkey[1:]
        rule = rule_of[rule_id]
        meta = rule.meta
        ordered = sorted(lines, key=lambda item: item[0] or "")

        def first(i: int, items=ordered):  # arg_min(x, coalesce(bkkp_sn, '')) skipping NULL x
            return next((item[i] for item in items if item[i] is not None), None)

        bkkps = sorted(i[0] for i in lines if i[0] is not None)
        bkkp_list = ";".join(bkkps)
        amt = _sum(i[1] for i in lines)
        enc_fund = _max(i[2] for i in lines)
        vola_amt = _cents(enc_fund if meta.amount == "encounter" else amt)
        rep = _evidence(rep_names(rule), ordered[0][6])
        g = dict(zip(KEY, keys))
        kp = kps.get(g["kp_id"]) or {}
        if rule_id not in rule_params:
            rule_params[rule_id] = meta.param_values((params or {}).get(meta.rule_id))
        values = rule_params[rule_id]
        fields = {**{f"kp_{k}": v for k, v in kp.items()}, **values, **rep,
                  "vola_amt": vola_amt, "line_cnt": len(bkkps), "bkkp_sn": bkkp_list}
        if (rule_id, g["kp_id"]) not in evidence:
            evidence[rule_id, g["kp_id"]] = evidence_text(rule, kp, values)
        ident = "|".join([meta.rule_id, *(str(g[k] or "") for k in KEY), bkkp_list])
        out.append(Finding(
            rule=rule, jr_id="JR" + hashlib.md5(ident.encode()).hexdigest()[:24].upper(),
            mdtrt_id=g["mdtrt_id"], psn_no=g["psn_no"], fixmedins_code=g["fixmedins_code"], kp_id=g["kp_id"],
            grp=g["grp"], lines=[(i[0], _cents(i[1])) for i in ordered if i[0] is not None],
            vola_amt=vola_amt, vola_cont=render_message(meta.message, fields),
            vola_evid=evidence[rule_id, g["kp_id"]], setl_id=first(3), hilist_code=first(4),
            hilist_name=first(5), evidence=rep))
    out.sort(key=lambda f: (f.rule.rule_id, f.jr_id))
    return out


def answer(universe: Universe, findings: list[Finding], task_id: str | None) -> list[dict[str, Any]]:
    """The output.result[] entries of one patient: findings of the current encounter, as the platform's DTOs."""
    wanted = {r.rule_id for r in universe.rules}
    flagged = {rid for rid, o in universe.orders.items() if str(o.get("curr_drord_flag") or "") == "1"}
    stas = AMOUNT_ESTIMATED if universe.estimated else AMOUNT_COMPUTED
    out = []
    for f in findings:
        if f.mdtrt_id != universe.mdtrt_id or f.rule.rule_id not in wanted:
            continue
        rx_ids = [b for b, _ in f.lines if b in universe.orders]
        if f.lines and flagged and not flagged & set(rx_ids):
            continue  # only orders that were already warned about earlier (curr_drord_flag 0)
        details = [{"jrd_id": f"{f.jr_id}-{n:03d}", "patn_id": universe.psn_no, "mdtrt_id": f.mdtrt_id,
                    "rx_id": rx, "vola_item_type": "1", "vola_amt": float(amt)}
                   for n, (rx, amt) in enumerate(f.lines, start=1) if rx in universe.orders]
        if not details:  # an encounter-level finding: the whole encounter is the violating item
            details = [{"jrd_id": f"{f.jr_id}-001", "patn_id": universe.psn_no, "mdtrt_id": f.mdtrt_id,
                        "rx_id": None, "vola_item_type": "1", "vola_amt": float(f.vola_amt)}]
        meta = f.rule.meta
        out.append({
            "jr_id": f.jr_id, "rule_id": meta.rule_id, "rule_name": meta.name, "vola_cont": f.vola_cont[:500],
            "patn_id": universe.psn_no, "mdtrt_id": f.mdtrt_id, "judge_result_detail_dtos": details,
            "vola_amt": float(f.vola_amt), "vola_amt_stas": stas, "sev_deg": str(meta.sev_deg),
            "vola_evid": f.vola_evid[:500], "vola_bhvr_type": meta.vola_bhvr_type, "task_id": task_id,
        })
    return out
