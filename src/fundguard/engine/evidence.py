"""The evidence chain of one finding, read from the analytic store for the finding page.

What an analyst needs to judge a finding in a minute: the encounter's timeline (admission, fee lines day by
day, operations, discharge, settlement), every fee line of the encounter with the violating ones flagged, the
patient facts that matter (personal data masked unless the principal has ``pii.read``), the rule with its
knowledge point and legal basis, and how the amount was computed — the same arithmetic as
``engine/findings.py``: violating share of the line's fee × the line's in-scope amount × the settlement's
fund ratio (fund_pay_sumamt / Σ in-scope amounts of the settlement), summed over the lines.

Scope is enforced here: a finding outside the principal's institution is reported as absent (``NotFound``).
The workflow history is added by the caller (``ItemService.history``), which enforces scope again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fundguard.engine.evidence_labels import FACT_LABELS
from fundguard.errors import NotFound
from fundguard.reports.summary import MED_TYPES
from fundguard.rules.catalog import SEV
from fundguard.rules.library import default_library
from fundguard.rules.model import VOLA_BHVR_TYPES
from fundguard.workflow.access import check_institution, mask_id, mask_name, require

CENT = Decimal("0.01")
MAX_LINES = 2000       # fee lines shown for one finding
MAX_ENCOUNTERS = 30    # encounters shown for a person- or institution-level finding
GEND = {"1": "男", "2": "女", "9": "未说明"}
INSUTYPES = {"310": "职工基本医疗保险", "320": "公务员医疗补助", "330": "大额医疗费用补助", "340": "离休人员医疗保障",
             "390": "城乡居民基本医疗保险", "391": "城乡居民基本医疗保险", "392": "城乡居民大病医疗保险",
             "410": "长期照护保险", "510": "生育保险"}
PSN_TYPES = {"11": "在职", "1101": "职工在职", "1102": "公务员在职", "1103": "灵活就业人员在职", "12": "退休",
             "1201": "职工退休", "1202": "公务员退休", "21": "退休", "1300": "离休人员", "1403": "中小学生",
             "15": "居民（成年）", "31": "居民（成年）", "32": "居民（未成年）"}
CHRGITM_TYPES = {"01": "床位费", "02": "诊察费", "03": "检查费", "04": "化验费", "05": "治疗费", "06": "手术费",
                 "07": "护理费", "08": "卫生材料费", "09": "西药费", "10": "中药饮片费", "11": "中成药费",
                 "12": "一般诊疗费", "13": "挂号费", "14": "其他费"}
CHRGITM_LV = {"01": "甲类", "02": "乙类", "03": "丙类", "04": "可报丙类"}


@dataclass
class FeeLine:
    bkkp_sn: str
    fee_ocur_time: dt.datetime | None
    hilist_code: str
    hilist_name: str
    chrgitm_type: str
    chrgitm_lv: str
    cnt: Decimal | None
    pric: Decimal | None
    fee: Decimal | None
    inscp: Decimal | None
    dept: str
    doctor: str
    violating: bool
    mdtrt_id: str | None = None


@dataclass
class TimelineEvent:
    time: dt.datetime | dt.date | None
    kind: str
    title: str
    detail: str = ""
    flagged: bool = False


@dataclass
class AmountLine:
    bkkp_sn: str
    hilist_name: str
    fee: Decimal
    share: Decimal
    inscp: Decimal
    fund_ratio: Decimal
    amount: Decimal


@dataclass
class Amount:
    method: str
    formula: str
    lines: list[AmountLine]
    computed: Decimal
    recorded: Decimal
    vola_fee: Decimal | None

    @property
    def matches(self) -> bool:
        return abs(self.computed - self.recorded) <= CENT


@dataclass
class Evidence:
    finding: dict[str, Any]
    rule: dict[str, Any]
    knowledge: dict[str, Any] | None
    patient: dict[str, Any]
    encounter: dict[str, Any] | None       # the one encounter, when the finding is about one
    encounters: list[dict[str, Any]]
    settlements: list[dict[str, Any]]
    timeline: list[TimelineEvent]
    lines: list[FeeLine]
    diagnoses: list[dict[str, Any]]
    operations: list[dict[str, Any]]
    amount: Amount | None
    facts: list[tuple[str, str]] = field(default_factory=list)  # the rule's own evidence fields

    @property
    def violating_lines(self) -> list[FeeLine]:
        return [line for line in self.lines if line.violating]


def _rows(con, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def finding_row(con, jr_id: str) -> dict[str, Any] | None:
    rows = _rows(con, "SELECT * FROM findings WHERE jr_id = ? ORDER BY run_id DESC LIMIT 1", [jr_id])
    return rows[0] if rows else None


def evidence_chain(con, principal, jr_id: str) -> Evidence:
    """Everything the finding page shows about one finding; NotFound when absent or out of scope.

    A finding about one encounter shows that encounter with all its fee lines; a finding about a person or an
    institution (no mdtrt_id) shows the encounters its flagged lines belong to and only the flagged lines."""
    require(principal, "findings.read")
    f = finding_row(con, jr_id)
    if f is None:
        raise NotFound("未找到该疑点")
    check_institution(principal, f["fixmedins_code"])
    flagged = set(filter(None, (f.get("bkkp_sn") or "").split(";")))
    if f.get("mdtrt_id"):
        where, params = "mdtrt_id = ?", [f["mdtrt_id"]]
    elif flagged:
        where, params = "bkkp_sn IN (SELECT unnest(?::VARCHAR[]))", [sorted(flagged)]
    else:
        where, params = None, []
    lines = _lines(con, where, params, flagged) if where else []
    mdtrt_ids = [f["mdtrt_id"]] if f.get("mdtrt_id") else sorted({ln.mdtrt_id for ln in lines if ln.mdtrt_id})
    encounters = [e for e in (_encounter(con, m) for m in mdtrt_ids[:MAX_ENCOUNTERS]) if e]
    ids = [e["mdtrt_id"] for e in encounters]
    in_ids = "mdtrt_id IN (SELECT unnest(?::VARCHAR[])) AND coalesce(vali_flag, '1') <> '0'"
    settlements = _rows(con, f"""
        SELECT mdtrt_id, setl_id, setl_time, medfee_sumamt, fulamt_ownpay_amt, inscp_amt, hifp_pay, fund_pay_sumamt,
               psn_pay, refd_setl_flag FROM setl_d WHERE {in_ids} ORDER BY setl_time""", [ids]) if ids else []
    diagnoses = _rows(con, f"""
        SELECT DISTINCT diag_code, diag_name, maindiag_flag FROM setl_list_diag_d
        WHERE {in_ids} ORDER BY maindiag_flag DESC, diag_code""", [ids]) if len(ids) == 1 else []
    operations = _rows(con, f"""
        SELECT oprn_oprt_code, oprn_oprt_name, oprn_oprt_date, main_oprn_flag, oper_dr_name FROM setl_list_oprn_d
        WHERE {in_ids} ORDER BY oprn_oprt_date""", [ids]) if len(ids) == 1 else []
    rule, knowledge = _rule(con, f)
    encounter = encounters[0] if len(encounters) == 1 else None
    return Evidence(
        finding=f, rule=rule, knowledge=knowledge,
        patient=_patient(con, f, encounters[0] if encounters else None, principal.can("pii.read")),
        encounter=encounter, encounters=encounters, settlements=settlements,
        timeline=_timeline(encounters, lines, operations, settlements),
        lines=lines, diagnoses=diagnoses, operations=operations,
        amount=_amount(con, f, rule.get("amount", "lines"), where, params) if where else None,
        facts=_facts(f.get("evidence")),
    )


def _encounter(con, mdtrt_id: str) -> dict[str, Any] | None:
    rows = _rows(con, """
        SELECT m.mdtrt_id, m.psn_no, m.med_type, m.begntime, m.endtime, m.ipt_days, m.adm_dept_name,
               m.dscg_dept_name, m.dscg_maindiag_code, m.dscg_maindiag_name, m.dscg_way, m.chfpdr_name,
               m.fixmedins_code, coalesce(i.fixmedins_name, m.fixmedins_name) AS fixmedins_name,
               coalesce(i.hosp_lv, m.hosp_lv) AS hosp_lv, m.gend, m.brdy, m.insutype, m.psn_type, m.psn_name,
               m.certno, m.die_date
        FROM mdtrt_d m LEFT JOIN medins_info i ON i.fixmedins_code = m.fixmedins_code
        WHERE m.mdtrt_id = ?""", [mdtrt_id])
    if not rows:
        return None
    enc = rows[0]
    enc["med_type_name"] = MED_TYPES.get(str(enc["med_type"]), MED_TYPES.get(str(enc["med_type"])[:2], "其他"))
    return enc


def _lines(con, where: str, params: list, flagged: set[str]) -> list[FeeLine]:
    rows = con.execute(f"""
        SELECT bkkp_sn, fee_ocur_time, hilist_code, hilist_name, med_chrgitm_type, chrgitm_lv, cnt, pric,
               det_item_fee_sumamt,
               coalesce(inscp_amt, det_item_fee_sumamt - coalesce(fulamt_ownpay_amt, 0) - coalesce(preselfpay_amt, 0)),
               coalesce(bilg_dept_name, bilg_dept_codg, ''), coalesce(bilg_dr_name, bilg_dr_code, ''), mdtrt_id
        FROM fee_list_d WHERE {where} AND coalesce(vali_flag, '1') <> '0'
        ORDER BY fee_ocur_time, bkkp_sn LIMIT {MAX_LINES}""", params).fetchall()
    return [FeeLine(bkkp_sn=r[0], fee_ocur_time=r[1], hilist_code=r[2], hilist_name=r[3] or "",
                    chrgitm_type=CHRGITM_TYPES.get(str(r[4])[:2], str(r[4] or "")),
                    chrgitm_lv=CHRGITM_LV.get(str(r[5]), str(r[5] or "")), cnt=r[6], pric=r[7], fee=r[8],
                    inscp=r[9], dept=r[10], doctor=r[11], violating=r[0] in flagged, mdtrt_id=r[12]) for r in rows]


def _age(birth: dt.date | None, on: dt.date | None) -> str:
    if not birth or not on:
        return "—"
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if years >= 1:
        return f"{years} 岁"
    months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
    return f"{max(months, 0)} 个月" if months >= 1 else f"{(on - birth).days} 天"


def _patient(con, f: dict, enc: dict | None, pii: bool) -> dict[str, Any]:
    rows = _rows(con, "SELECT psn_name, certno, gend, brdy, insutype, psn_type, psn_idet_type, die_date, emp_name "
                      "FROM psn_info WHERE psn_no = ?", [f.get("psn_no")]) if f.get("psn_no") else []
    p = rows[0] if rows else {}
    enc = enc or {}

    def pick(key: str):
        return enc.get(key) if enc.get(key) is not None else p.get(key)

    begn = enc.get("begntime")
    on = begn.date() if isinstance(begn, dt.datetime) else begn
    name, certno = pick("psn_name") or "", pick("certno") or ""
    return {
        "psn_no": f.get("psn_no") or "",
        "name": name if pii else mask_name(name),
        "certno": certno if pii else mask_id(certno),
        "masked": not pii,
        "gend": GEND.get(str(pick("gend")), "未知"),
        "age": _age(pick("brdy"), on),
        "insutype": INSUTYPES.get(str(pick("insutype")), str(pick("insutype") or "—")),
        "psn_type": PSN_TYPES.get(str(pick("psn_type")), str(pick("psn_type") or "—")),
        "die_date": pick("die_date"),
    }


def rule_info(rule_id: str) -> dict[str, Any]:
    rule = next((r for r in default_library() if r.rule_id == rule_id), None)
    if rule is None:
        return {"rule_id": rule_id, "name": rule_id, "known": False}
    m = rule.meta
    return {
        "rule_id": m.rule_id, "name": m.name, "known": True, "tier": f"{m.tier1}/{m.tier2}",
        "sev_deg": m.sev_deg, "sev_label": SEV[m.sev_deg], "vola_bhvr_type": m.vola_bhvr_type,
        "vola_bhvr_label": VOLA_BHVR_TYPES[m.vola_bhvr_type], "scenarios": "、".join(m.scenarios),
        "stages": "、".join(m.stages), "time_window": m.time_window, "description": m.description,
        "basis": m.basis, "legal": m.legal, "exclusions": list(m.exclusions), "amount": m.amount,
        "params": {k: {"default": p.default, "desc": p.desc} for k, p in m.params.items()},
        "kb_classes": list(m.kb_classes), "level": m.level,
    }


def _rule(con, f: dict) -> tuple[dict[str, Any], dict[str, Any] | None]:
    rule = rule_info(f["rule_id"])
    knowledge = None
    if f.get("kp_id"):
        rows = _rows(con, """SELECT kp_id, rule_class, gz_code, item_name, constraint_text, detect_logic, batch,
                                    published_at, effective_from, effective_to FROM kb_points WHERE kp_id = ?""",
                     [f["kp_id"]])
        knowledge = rows[0] if rows else {"kp_id": f["kp_id"]}
    return rule, knowledge


def _timeline(encounters: list[dict], lines: list[FeeLine], operations: list[dict],
              settlements: list[dict]) -> list[TimelineEvent]:
    events = []
    for enc in encounters:
        stay = str(enc["med_type"]).startswith("2")
        where = f"{enc['med_type_name']}，{enc.get('fixmedins_name') or ''} {enc.get('adm_dept_name') or ''}".strip()
        events.append(TimelineEvent(enc["begntime"], "admission", "入院" if stay else "就诊", where.rstrip("，")))
        if enc.get("endtime") and stay:
            events.append(TimelineEvent(enc["endtime"], "discharge", "出院",
                                        f"{enc.get('dscg_maindiag_name') or ''} 住院 {enc.get('ipt_days') or '—'} 天"))
    by_day: dict[dt.date, list[FeeLine]] = {}
    for line in lines:
        day = line.fee_ocur_time.date() if isinstance(line.fee_ocur_time, dt.datetime) else line.fee_ocur_time
        by_day.setdefault(day, []).append(line)
    for day, day_lines in by_day.items():
        bad = [ln for ln in day_lines if ln.violating]
        total = sum((_dec(ln.fee) for ln in day_lines), Decimal(0))
        detail = f"{len(day_lines)} 行费用，合计 {total:,.2f} 元"
        if bad:
            detail += "；其中违规：" + "、".join(sorted({ln.hilist_name for ln in bad}))
        first = min((ln.fee_ocur_time for ln in day_lines if ln.fee_ocur_time is not None), default=day)
        events.append(TimelineEvent(first, "fees", "费用", detail, flagged=bool(bad)))
    for op in operations:
        events.append(TimelineEvent(op["oprn_oprt_date"], "operation", "手术/操作",
                                    f"{op['oprn_oprt_name']}（{op['oprn_oprt_code']}）"))
    for s in settlements:
        events.append(TimelineEvent(s["setl_time"], "settlement", "结算",
                                    f"医疗费用 {_dec(s['medfee_sumamt']):,.2f} 元，基金支付 "
                                    f"{_dec(s['fund_pay_sumamt']):,.2f} 元"))

    def key(e: TimelineEvent):
        t = e.time
        if isinstance(t, dt.datetime):
            return t
        if isinstance(t, dt.date):
            return dt.datetime.combine(t, dt.time(12))
        return dt.datetime.max
    return sorted(events, key=key)


def _amount(con, f: dict, method: str, where: str, params: list) -> Amount:
    rows = con.execute(f"""
        WITH lines AS (
            SELECT bkkp_sn, setl_id, hilist_name, det_item_fee_sumamt AS fee,
                   coalesce(inscp_amt, det_item_fee_sumamt - coalesce(fulamt_ownpay_amt, 0)
                            - coalesce(preselfpay_amt, 0)) AS inscp
            FROM fee_list_d WHERE {where} AND coalesce(vali_flag, '1') <> '0'),
        ratio AS (
            SELECT s.setl_id,
                   CASE WHEN t.total > 0 THEN CAST(s.fund_pay_sumamt AS DOUBLE) / CAST(t.total AS DOUBLE) ELSE 0
                   END AS r
            FROM setl_d s
            JOIN (SELECT setl_id, sum(coalesce(inscp_amt, det_item_fee_sumamt - coalesce(fulamt_ownpay_amt, 0)
                                               - coalesce(preselfpay_amt, 0))) AS total
                  FROM fee_list_d WHERE coalesce(vali_flag, '1') <> '0'
                    AND setl_id IN (SELECT setl_id FROM lines) GROUP BY setl_id) t ON t.setl_id = s.setl_id
            WHERE coalesce(s.vali_flag, '1') <> '0' AND coalesce(s.refd_setl_flag, '0') <> '1')
        SELECT l.bkkp_sn, l.hilist_name, l.fee, l.inscp, coalesce(r.r, 0)
        FROM lines l LEFT JOIN ratio r ON r.setl_id = l.setl_id ORDER BY l.bkkp_sn""", params).fetchall()
    recorded = _dec(f["vola_amt"])
    vola_fee = _dec(f["vola_fee"]) if f.get("vola_fee") is not None else None
    if method == "encounter":
        picked = rows
        formula = "整次就诊各费用明细行：政策范围内金额 × 结算基金支付比例，求和"
        share = Decimal(1)
    else:
        flagged = set(filter(None, (f.get("bkkp_sn") or "").split(";")))
        picked = [r for r in rows if r[0] in flagged]
        fee_total = sum((_dec(r[2]) for r in picked), Decimal(0))
        share = (vola_fee / fee_total) if vola_fee is not None and fee_total else Decimal(1)
        share = min(share, Decimal(1))
        formula = "违规明细行：违规费用占该行费用的比例 × 该行政策范围内金额 × 结算基金支付比例，求和"
    lines = []
    for bkkp_sn, name, fee, inscp, ratio in picked:
        ratio_d = Decimal(str(ratio)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        amount = (share * _dec(inscp) * Decimal(str(ratio))).quantize(CENT, rounding=ROUND_HALF_UP)
        lines.append(AmountLine(bkkp_sn, name or "", _dec(fee), share.quantize(Decimal("0.0001")), _dec(inscp),
                                ratio_d, amount))
    computed = sum((Decimal(str(share * _dec(r[3]) * Decimal(str(r[4])))) for r in picked), Decimal(0))
    computed = computed.quantize(CENT, rounding=ROUND_HALF_UP)
    return Amount(method=method, formula=formula, lines=lines, computed=computed, recorded=recorded,
                  vola_fee=vola_fee)


_SKIP_FACTS = {"mdtrt_id", "psn_no", "fixmedins_code", "setl_id", "bkkp_sn", "bilg_dr_code", "grp", "kp_id"}


def _facts(raw: str | None) -> list[tuple[str, str]]:
    """The rule's own evidence fields with Chinese labels; a code is shown through its ``*_name`` twin."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    out = []
    for key, value in data.items():
        if key in _SKIP_FACTS or value in (None, "") or f"{key}_name" in data:
            continue
        base = key[:-5] if key.endswith("_name") and key[:-5] in FACT_LABELS else key
        if isinstance(value, float):
            value = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
        elif key == "gend":
            value = GEND.get(str(value), value)
        out.append((FACT_LABELS.get(base, key), str(value)))
    return out
