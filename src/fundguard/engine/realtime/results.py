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

from fundguard.engine.findings import evidence_text, render_message
from fundguard.engine.realtime.mapping import Universe
from fundguard.rules.library import Rule

CENTS = decimal.Decimal("0.01")
# vola_amt_stas: 1 = computed with the encounter's fund payment; 2 = estimated (no fund amount in the request
# yet: the fund is taken to pay the in-scope part of each line).
AMOUNT_COMPUTED, AMOUNT_ESTIMATED = "1", "2"
# Row layout of executor.run (per rule): lite.KEY_COLUMNS, vola_fee, __fee, __line_fund, __enc_fund, then the
# values of the evidence row that are not key columns (from R_REP on; the evidence row's names and the function
# picking its values from a row: ``Executor.evidence``).
(R_MDTRT, R_PSN, R_FIXMEDINS, R_KP, R_GRP, R_BKKP, R_SETL, R_HILIST, R_HILIST_NAME, R_DR, R_VOLA_FEE, R_FEE,
 R_LINE_FUND, R_ENC_FUND, R_REP) = range(15)


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


def _lines(rows: list[tuple], names: tuple[str, ...], pick: Callable[[tuple], tuple]) -> dict[tuple, list[tuple]]:
    """A rule's rows by finding key (KEY): its lines, each (bkkp_sn, amt, enc_fund, setl_id, hilist_code,
    hilist_name, evidence values); several rows of one line make one, as the batch engine merges them."""
    per_line: dict[tuple, list[tuple]] = {}  # (*KEY, bkkp_sn) -> the rows of one line
    for row in rows:
        key = row[:R_SETL]
        same = per_line.get(key)
        if same is None:
            per_line[key] = [row]
        else:
            same.append(row)
    by_finding: dict[tuple, list[tuple]] = {}
    for key, rs in per_line.items():
        r = rs[0]
        if len(rs) == 1:  # the common case: one row per line
            line = (key[R_BKKP], _fund_share(r), r[R_ENC_FUND], r[R_SETL], r[R_HILIST], r[R_HILIST_NAME], pick(r))
        else:
            line = (key[R_BKKP], _max(_fund_share(x) for x in rs), _max(x[R_ENC_FUND] for x in rs),
                    _min(x[R_SETL] for x in rs), _min(x[R_HILIST] for x in rs), _min(x[R_HILIST_NAME] for x in rs),
                    min((pick(x) for x in rs), key=lambda values: _evidence_text(names, values)))
        same = by_finding.get(key[:R_BKKP])
        if same is None:
            by_finding[key[:R_BKKP]] = [line]
        else:
            same.append(line)
    return by_finding


def _first(lines: list[tuple], i: int) -> Any:
    """arg_min(x, coalesce(bkkp_sn, '')) skipping NULL x, over lines sorted by bkkp_sn."""
    return next((item[i] for item in lines if item[i] is not None), None)


def group(found: list[tuple[Rule, list[tuple]]], kp_info: Callable[[set[str]], dict[str, dict]],
          params: dict[str, dict[str, Any]] | None,
          evidence: Callable[[Rule], tuple[tuple[str, ...], Callable[[tuple], tuple]]]) -> list[Finding]:
    """Findings of one patient's rules and their rows (executor.run; ``evidence``: the executor's names of
    the fields of a rule's evidence row and the function picking their values from a row)."""
    per_rule = []
    kp_ids: set[str] = set()
    for rule, rows in found:
        if rows:
            names, pick = evidence(rule)
            by_finding = _lines(rows, names, pick)
            kp_ids.update(key[R_KP] for key in by_finding if key[R_KP])
            per_rule.append((rule, names, by_finding))
    kps = kp_info(kp_ids) if kp_ids else {}
    out = []
    for rule, names, by_finding in per_rule:
        meta = rule.meta
        values = meta.param_values((params or {}).get(meta.rule_id))
        per_kp: dict[str | None, tuple[dict, str]] = {}  # kp_id -> (the message's fields of the point, vola_evid)
        for fkey, lines in by_finding.items():
            mdtrt_id, psn_no, fixmedins_code, kp_id, grp = fkey
            base = per_kp.get(kp_id)
            if base is None:
                kp = kps.get(kp_id) or {}
                base = per_kp[kp_id] = ({**{f"kp_{k}": v for k, v in kp.items()}, **values},
                                        evidence_text(rule, kp, values))
            if len(lines) > 1:
                lines.sort(key=lambda item: item[0] or "")
            bkkps = [i[0] for i in lines if i[0] is not None]
            bkkp_list = ";".join(bkkps)
            amt = _sum(i[1] for i in lines)
            vola_amt = _cents(_max(i[2] for i in lines) if meta.amount == "encounter" else amt)
            rep = _evidence(names, lines[0][6])
            ident = "|".join([meta.rule_id, *(str(k or "") for k in fkey), bkkp_list])
            out.append(Finding(
                rule=rule, jr_id="JR" + hashlib.md5(ident.encode()).hexdigest()[:24].upper(),
                mdtrt_id=mdtrt_id, psn_no=psn_no, fixmedins_code=fixmedins_code, kp_id=kp_id, grp=grp,
                lines=[(i[0], _cents(i[1])) for i in lines if i[0] is not None], vola_amt=vola_amt,
                vola_cont=render_message(meta.message, {**base[0], **rep, "vola_amt": vola_amt,
                                                        "line_cnt": len(bkkps), "bkkp_sn": bkkp_list}),
                vola_evid=base[1], setl_id=_first(lines, 3), hilist_code=_first(lines, 4),
                hilist_name=_first(lines, 5), evidence=rep))
    out.sort(key=lambda f: (f.rule.rule_id, f.jr_id))
    return out


def answer(universe: Universe, findings: list[Finding], task_id: str | None) -> list[dict[str, Any]]:
    """The output.result[] entries of one patient: findings of the current encounter, as the platform's DTOs."""
    wanted = {r.rule_id for r in universe.rules}
    flagged, orders, psn_no = universe.flagged, universe.orders, universe.psn_no
    stas = AMOUNT_ESTIMATED if universe.estimated else AMOUNT_COMPUTED
    out = []
    for f in findings:
        if f.mdtrt_id != universe.mdtrt_id or f.rule.rule_id not in wanted:
            continue
        if f.lines and flagged and flagged.isdisjoint([b for b, _ in f.lines]):
            continue  # only orders that were already warned about earlier (curr_drord_flag 0)
        details = [{"jrd_id": f"{f.jr_id}-{n:03d}", "patn_id": psn_no, "mdtrt_id": f.mdtrt_id,
                    "rx_id": rx, "vola_item_type": "1", "vola_amt": float(amt)}
                   for n, (rx, amt) in enumerate(f.lines, start=1) if rx in orders]
        if not details:  # an encounter-level finding: the whole encounter is the violating item
            details = [{"jrd_id": f"{f.jr_id}-001", "patn_id": psn_no, "mdtrt_id": f.mdtrt_id,
                        "rx_id": None, "vola_item_type": "1", "vola_amt": float(f.vola_amt)}]
        meta = f.rule.meta
        out.append({
            "jr_id": f.jr_id, "rule_id": meta.rule_id, "rule_name": meta.name, "vola_cont": f.vola_cont[:500],
            "patn_id": psn_no, "mdtrt_id": f.mdtrt_id, "judge_result_detail_dtos": details,
            "vola_amt": float(f.vola_amt), "vola_amt_stas": stas, "sev_deg": str(meta.sev_deg),
            "vola_evid": f.vola_evid[:500], "vola_bhvr_type": meta.vola_bhvr_type, "task_id": task_id,
        })
    return out
