"""Institution and person profiles from the analytic store: who they are, what was paid, what was found,
and (when screening has run) the risk score and its reasons.

Scoped like every read service: an institution user sees only its own institution, and a person only through
that person's encounters at its institution (a person who never visited it does not exist for that user).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fundguard.engine.evidence import GEND, INSUTYPES, PSN_TYPES
from fundguard.errors import NotFound
from fundguard.reports.dashboard import latest_run
from fundguard.reports.summary import MED_TYPES, MEDINS_TYPES
from fundguard.workflow.access import check_institution, institution_scope, mask_id, mask_name, require

HOSP_LV = {"01": "三级特等", "02": "三级甲等", "03": "三级乙等", "04": "三级丙等", "05": "二级甲等", "06": "二级乙等",
           "07": "二级丙等", "08": "一级甲等", "09": "一级乙等", "10": "一级丙等", "11": "无等级", "12": "一级",
           "13": "二级", "14": "三级"}
AGREEMENT = {"1": "正常", "2": "暂停", "3": "解除"}


@dataclass
class Profile:
    kind: str  # 'medins' | 'person'
    subject_id: str
    title: str
    facts: list[tuple[str, str]]
    figures: dict[str, Any]
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    encounters: list[dict[str, Any]] = field(default_factory=list)
    risk: dict[str, Any] | None = None  # None: screening not available


def _rows(con, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def institution_profile(con, principal, fixmedins_code: str) -> Profile:
    require(principal, "findings.read")
    check_institution(principal, fixmedins_code)
    rows = _rows(con, "SELECT * FROM medins_info WHERE fixmedins_code = ?", [fixmedins_code])
    seen = con.execute("SELECT count(*) FROM mdtrt_d WHERE fixmedins_code = ?", [fixmedins_code]).fetchone()[0]
    if not rows and not seen:
        raise NotFound("未找到该定点机构")
    info = rows[0] if rows else {}
    facts = [
        ("机构编码", fixmedins_code),
        ("机构名称", info.get("fixmedins_name") or "—"),
        ("类别", MEDINS_TYPES.get(str(info.get("medins_type")), "定点零售药店" if info.get("fixmedins_type") == "2"
                                 else "定点医疗机构")),
        ("等级", HOSP_LV.get(str(info.get("hosp_lv")), info.get("hosp_lv") or "—")),
        ("性质", "民营" if info.get("nonpub_flag") == "1" else "公立" if info.get("nonpub_flag") == "0" else "—"),
        ("协议状态", AGREEMENT.get(str(info.get("agreement_status")), "—")),
        ("协议期限", f"{info.get('agreement_begn_date') or '—'} 至 {info.get('agreement_end_date') or '—'}"),
        ("核定床位", str(info.get("aprv_bed_cnt") or "—")),
    ]
    figures = _rows(con, """
        SELECT count(*) AS settlements, count(DISTINCT psn_no) AS persons, coalesce(sum(medfee_sumamt), 0) AS medfee,
               coalesce(sum(fund_pay_sumamt), 0) AS fund_paid
        FROM setl_d WHERE fixmedins_code = ? AND coalesce(vali_flag, '1') <> '0'
          AND coalesce(refd_setl_flag, '0') <> '1'""", [fixmedins_code])[0]
    run_id, _ = latest_run(con)
    by_rule = _findings_by_rule(con, run_id, "fixmedins_code = ?", [fixmedins_code])
    figures["findings"] = sum(r["findings"] for r in by_rule)
    figures["vola_amt"] = sum((r["vola_amt"] for r in by_rule), 0)
    risk = _screening(con, principal, "medins", fixmedins_code)
    return Profile("medins", fixmedins_code, info.get("fixmedins_name") or fixmedins_code, facts, figures,
                   by_rule=by_rule, risk=risk)


def person_profile(con, principal, psn_no: str) -> Profile:
    require(principal, "findings.read")
    scope = institution_scope(principal)
    visits = con.execute("SELECT count(*) FROM mdtrt_d WHERE psn_no = ? AND (CAST(? AS VARCHAR) IS NULL "
                         "OR fixmedins_code = ?)", [psn_no, scope, scope]).fetchone()[0]
    rows = _rows(con, "SELECT * FROM psn_info WHERE psn_no = ?", [psn_no])
    if not visits and (scope or not rows):
        raise NotFound("未找到该参保人")
    p = rows[0] if rows else {}
    pii = principal.can("pii.read")
    name, certno = p.get("psn_name") or "", p.get("certno") or ""
    facts = [
        ("人员编号", psn_no),
        ("姓名", name if pii else mask_name(name)),
        ("证件号码", certno if pii else mask_id(certno)),
        ("性别", GEND.get(str(p.get("gend")), "未知")),
        ("出生日期", str(p.get("brdy") or "—") if pii else (str(p.get("brdy"))[:4] + " 年" if p.get("brdy") else "—")),
        ("险种", INSUTYPES.get(str(p.get("insutype")), p.get("insutype") or "—")),
        ("人员类别", PSN_TYPES.get(str(p.get("psn_type")), p.get("psn_type") or "—")),
    ]
    if p.get("die_date"):
        facts.append(("死亡日期", str(p["die_date"])))
    where = "m.psn_no = ? AND (CAST(? AS VARCHAR) IS NULL OR m.fixmedins_code = ?)"
    encounters = _rows(con, f"""
        SELECT m.mdtrt_id, m.med_type, m.begntime, m.endtime, m.fixmedins_code,
               coalesce(i.fixmedins_name, m.fixmedins_name, m.fixmedins_code) AS fixmedins_name,
               m.dscg_maindiag_name, coalesce(sum(s.medfee_sumamt), 0) AS medfee,
               coalesce(sum(s.fund_pay_sumamt), 0) AS fund_paid
        FROM mdtrt_d m LEFT JOIN medins_info i ON i.fixmedins_code = m.fixmedins_code
        LEFT JOIN setl_d s ON s.mdtrt_id = m.mdtrt_id AND coalesce(s.vali_flag, '1') <> '0'
             AND coalesce(s.refd_setl_flag, '0') <> '1'
        WHERE {where} GROUP BY ALL ORDER BY m.begntime DESC LIMIT 200""", [psn_no, scope, scope])
    for e in encounters:
        e["med_type_name"] = MED_TYPES.get(str(e["med_type"]), MED_TYPES.get(str(e["med_type"])[:2], "其他"))
    figures = {"encounters": visits, "institutions": len({e["fixmedins_code"] for e in encounters}),
               "medfee": sum((e["medfee"] for e in encounters), 0),
               "fund_paid": sum((e["fund_paid"] for e in encounters), 0)}
    run_id, _ = latest_run(con)
    by_rule = _findings_by_rule(con, run_id, "psn_no = ? AND (CAST(? AS VARCHAR) IS NULL OR fixmedins_code = ?)",
                                [psn_no, scope, scope])
    figures["findings"] = sum(r["findings"] for r in by_rule)
    figures["vola_amt"] = sum((r["vola_amt"] for r in by_rule), 0)
    risk = _screening(con, principal, "person", psn_no)
    title = (name if pii else mask_name(name)) or psn_no
    return Profile("person", psn_no, title, facts, figures, by_rule=by_rule, encounters=encounters, risk=risk)


def _findings_by_rule(con, run_id: int | None, where: str, params: list) -> list[dict[str, Any]]:
    if run_id is None:
        return []
    return _rows(con, f"""
        SELECT rule_id, any_value(rule_name) AS rule_name, min(sev_deg) AS sev_deg, count(*) AS findings,
               sum(vola_amt) AS vola_amt
        FROM findings WHERE run_id = ? AND {where} GROUP BY rule_id ORDER BY vola_amt DESC""", [run_id, *params])


def _screening(con, principal, subject_type: str, subject_id: str) -> dict[str, Any] | None:
    """Risk score and reasons from screening, for roles that may see screening results ({} when not screened)."""
    if not principal.can("screening.read"):
        return None
    from fundguard.screening import queries

    if queries.latest_run(con) is None:
        return None
    return queries.subject_profile(con, subject_type, subject_id) or {}
