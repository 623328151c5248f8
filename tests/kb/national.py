"""National verification: for every knowledge point, one encounter that must fire and one that must not.

Points of one class share one store (distinct persons per point); only the rules whose ``kb_classes`` name
the class run. A point is correct when exactly its kp_id fires for the firing person and nothing fires for
the other one. Points whose limits could not be read from the tables are reported with the reason.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE = dt.date(2025, 3, 3)  # test date for points without an end
BASE_OLD = dt.date(2025, 1, 6)  # test date for superseded points (in force until 2026-01-27)


class NotEvaluable(Exception):
    """The point cannot be checked from the published tables (the message says why)."""


@dataclass
class Given:
    mdtrt_d: list = field(default_factory=list)
    fee_list_d: list = field(default_factory=list)
    setl_list_diag_d: list = field(default_factory=list)
    n: int = 0

    def encounter(self, psn: str, begin: dt.date, days: int = 0, **cols) -> str:
        self.n += 1
        mdtrt_id = f"M{self.n}"
        row = {"mdtrt_id": mdtrt_id, "psn_no": psn, "begntime": f"{begin} 08:00:00",
               "endtime": f"{begin + dt.timedelta(days=days)} 18:00:00"}
        row.update(cols)
        self.mdtrt_d.append(row)
        return mdtrt_id

    def line(self, mdtrt_id: str, code: str, day: dt.date, hour: int = 9, **cols) -> None:
        self.n += 1
        row = {"bkkp_sn": f"F{self.n}", "mdtrt_id": mdtrt_id, "hilist_code": code,
               "fee_ocur_time": f"{day} {hour:02d}:00:00", "pric": 10}
        row.update(cols)
        self.fee_list_d.append(row)

    def diag(self, mdtrt_id: str, code: str) -> None:
        self.n += 1
        self.setl_list_diag_d.append({"setl_list_diag_id": f"D{self.n}", "mdtrt_id": mdtrt_id, "diag_type": "1",
                                      "maindiag_flag": "1", "diag_code": code, "diag_name": code})

    def tables(self) -> dict:
        return {"mdtrt_d": self.mdtrt_d, "fee_list_d": self.fee_list_d, "setl_list_diag_d": self.setl_list_diag_d}


def born(day: dt.date, years: int = 0, days: int = 10) -> str:
    """Birth date of a person who is ``years`` full years (and ``days`` days) old on ``day``."""
    d = day - dt.timedelta(days=days)
    return str(d.replace(year=d.year - years, day=min(d.day, 28)))


def _need(point: dict, *names: str) -> None:
    missing = [n for n in names if point.get(n) is None]
    if missing:
        text = (point.get("constraint_text") or "").replace("\n", " ")[:40]
        raise NotEvaluable(f"限定条件未能从文字结构化（{', '.join(missing)}）：{text}")


# --- one builder per class: (point, code, day, given, person, fire) -------------------------------------
def gender(p, code, day, g, psn, fire):
    _need(p, "gend")
    other = "1" if p["gend"] == "2" else "2"
    g.line(g.encounter(psn, day, gend=other if fire else p["gend"]), code, day)


def age(p, code, day, g, psn, fire):
    _need(p, "age_max")
    if fire:
        brdy = born(day, 70 if p["age_max"] > 30 else 30)
    elif p.get("age_max_days"):
        brdy = born(day, 0, 10)  # a 10-day-old newborn
    else:
        years = int(p["age_min"]) if p.get("age_min") is not None else min(5, int(p["age_max"]) - 1)
        brdy = born(day, max(years, 0), 100 if years <= 0 else 10)
    g.line(g.encounter(psn, day, brdy=brdy), code, day)


def insurance(p, code, day, g, psn, fire):
    _need(p, "insutypes")
    allowed = [t for t in (p["insutypes"] or "").split(";") if t]
    if fire:
        g.line(g.encounter(psn, day, insutype="310"), code, day)
    elif allowed:
        g.line(g.encounter(psn, day, insutype=allowed[0]), code, day)
    else:  # the basic fund never pays: a fully self-paid line is no claim
        g.line(g.encounter(psn, day, insutype="310"), code, day, fulamt_ownpay_amt=10, inscp_amt=0)


def grade(p, code, day, g, psn, fire):
    _need(p, "min_hosp_grade")
    lv = {1: "11", 2: "08", 3: "05"} if fire else {1: "08", 2: "05", 3: "02"}
    g.line(g.encounter(psn, day, hosp_lv=lv[int(p["min_hosp_grade"])]), code, day)


def visit(p, code, day, g, psn, fire):
    _need(p, "med_types")
    allowed = [t for t in p["med_types"].split(";") if t]
    ok = lambda m: any(m.startswith(t) for t in allowed)
    med_type = next(m for m in ("11", "21", "41", "9901") if not ok(m)) if fire else allowed[0]
    g.line(g.encounter(psn, day, med_type=med_type), code, day)


def course(p, code, day, g, psn, fire):
    if p.get("max_days") is None and p.get("min_interval_days") is None:
        _need(p, "max_days")
    max_days, interval = p.get("max_days"), p.get("min_interval_days")
    if fire:
        offsets = list(range(int(max_days) + 1)) if max_days else [0, 1]
    elif interval:
        limit = int(max_days) if max_days else int(interval) * 2 + 1
        offsets = list(range(0, limit, int(interval)))[: max(int(max_days or 2), 2)]
    else:
        offsets = list(range(int(max_days)))
    e = g.encounter(psn, day, offsets[-1], med_type="21")
    for off in offsets:
        g.line(e, code, day + dt.timedelta(days=off))


def frequency(p, code, day, g, psn, fire):
    _need(p, "max_cnt", "period")
    if p["period"] != "日":
        raise NotEvaluable(f"计算单位「{p['period']}」不是日，未构造用例")
    cap = float(p["max_cnt"])
    cnt = cap + 1 if fire else cap
    g.line(g.encounter(psn, day, med_type="21"), code, day, cnt=int(cnt) if cnt.is_integer() else cnt)


def period(p, code, day, g, psn, fire):
    _need(p, "max_cnt", "period_days")
    gap = 1 if fire else int(p["period_days"])
    g.line(g.encounter(psn, day), code, day, cnt=int(float(p["max_cnt"])))
    later = day + dt.timedelta(days=gap)
    g.line(g.encounter(psn, later), code, later)


def internet(p, code, day, g, psn, fire):
    g.line(g.encounter(psn, day, med_type="9901" if fire else "11"), code, day)


def never_paid(p, code, day, g, psn, fire):
    extra = {} if fire else {"fulamt_ownpay_amt": 10, "inscp_amt": 0}
    g.line(g.encounter(psn, day), code, day, list_type="102", **extra)


def single_herb(p, code, day, g, psn, fire):
    e = g.encounter(psn, day)
    g.line(e, code, day, list_type="102", rx_drord_no=f"RX-{psn}")
    if not fire:  # with an ordinary herb the prescription is no longer made of such herbs only
        g.line(e, "T999999999", day, list_type="102", rx_drord_no=f"RX-{psn}")


def second_line(p, code, day, g, psn, fire):
    if not fire:  # evidence: an earlier drug of the same class (the rule's fallback without a first-line list)
        earlier = day - dt.timedelta(days=30)
        g.line(g.encounter(psn, earlier), code[:5] + "ZZ" + "9" * (len(code) - 7), earlier)
    g.line(g.encounter(psn, day), code, day)


OUTSIDE = ("Z00.0", "R69", "S00.0", "A00.0", "V01.0")


def indication(p, code, day, g, psn, fire):
    _need(p, "icd_prefixes")
    prefixes = [x.strip() for x in p["icd_prefixes"].split(";") if x.strip()]
    plain = [x.replace(".", "").upper() for x in prefixes]
    if fire:
        diag = next(c for c in OUTSIDE if not any(c.replace(".", "").startswith(x) for x in plain))
    else:
        diag = prefixes[0] if len(prefixes[0]) >= 3 else (prefixes[0] + "00")[:3]
    e = g.encounter(psn, day)
    g.diag(e, diag)
    g.line(e, code, day)


BUILDERS = {
    "药品区分性别使用": gender, "医疗服务项目区分性别使用": gender, "医用耗材与性别不符": gender,
    "药品儿童专用": age, "药品限儿童使用": age, "医疗服务项目儿童专用": age, "医疗服务项目限儿童使用": age,
    "医疗服务项目限年龄": age, "药品限工伤保险": insurance, "药品限生育保险": insurance,
    "药品限医疗机构级别": grade, "药品限就医方式": visit, "药品限支付疗程": course, "医疗服务项目限支付疗程": course,
    "医疗服务项目限定频次": frequency, "医疗服务项目周期超频次": period, "超互联网医院药品支付范围": internet,
    "中药饮片单复方均不予支付": never_paid, "中药饮片单方使用不予支付": single_herb,
    "药品限二线使用": second_line, "药品限适应症": indication,
}
SPANS = {"药品限支付疗程": "max_days", "医疗服务项目限支付疗程": "max_days", "医疗服务项目周期超频次": "period_days"}


def test_day(point: dict, span: int) -> dt.date:
    if point["effective_to"]:
        return min(BASE_OLD, point["effective_to"] - dt.timedelta(days=span + 2))
    if point["effective_from"]:
        return point["effective_from"] + dt.timedelta(days=4)
    return BASE


def _in_force(kb, kp_id, start, end) -> bool:
    p = kb.points[kp_id]
    return (p["effective_from"] or dt.date.min) <= end and start <= (p["effective_to"] or dt.date.max)


def pick_code(kb, kp_id, start, end) -> tuple[str, set[str]]:
    """A code of the point that no other point of its class covers at that time; the kp_ids expected to fire."""
    cls = kb.points[kp_id]["rule_class"]
    best = None
    for code in kb.codes[kp_id]:
        others = {k for k in kb.by_code.get((cls, code), ()) if k != kp_id and _in_force(kb, k, start, end)}
        if not others:
            return code, {kp_id}
        best = best or (code, {kp_id} | others)
    return best


@dataclass
class KbView:
    points: dict
    codes: dict
    by_code: dict

    @classmethod
    def read(cls, con) -> KbView:
        cols = [d[0] for d in con.execute("SELECT * FROM kb_points LIMIT 0").description]
        points = {r[0]: dict(zip(cols, r)) for r in con.execute("SELECT * FROM kb_points ORDER BY kp_id").fetchall()}
        codes: dict[str, list] = {}
        by_code: dict[tuple, list] = {}
        for kp_id, code, role in con.execute(
                "SELECT kp_id, hilist_code, role FROM kb_point_codes ORDER BY kp_id, role, hilist_code").fetchall():
            codes.setdefault(kp_id, [])
            if role:  # 重复收费: the pair's item A and item B
                points[kp_id].setdefault("_" + role, code)
            else:
                codes[kp_id].append(code)
            by_code.setdefault((points[kp_id]["rule_class"], code), []).append(kp_id)
        return cls(points, codes, by_code)


def pair_case(kb, kp_id, g, i):
    """重复收费: A and B in one encounter on one day fire; B on another day (同日) or visit (同次就诊) does not."""
    p = kb.points[kp_id]
    scope = p.get("scope") or "同日"
    if scope not in ("同日", "同次就诊"):
        raise NotEvaluable(f"频度为「{scope}」（小时级），费用明细按日记账，规则按设计不判定")
    a, b, day = p["_A"], p["_B"], test_day(p, 2)
    fire_psn, neg_psn = f"P{i}F", f"P{i}N"
    e = g.encounter(fire_psn, day, 1, med_type="21")
    g.line(e, a, day, 8)
    g.line(e, b, day, 10)
    e = g.encounter(neg_psn, day, 1 if scope == "同日" else 0, med_type="21" if scope == "同日" else "11")
    g.line(e, a, day, 8)
    if scope == "同日":
        g.line(e, b, day + dt.timedelta(days=1), 10)
    else:
        later = day + dt.timedelta(days=2)
        g.line(g.encounter(neg_psn, later, med_type="11"), b, later, 10)
    return fire_psn, neg_psn, {kp_id}


def surgery_case(kb, kp_id, g, i):
    """手术折价: a second operation of the group charged at full price fires; at 50% it does not."""
    p = kb.points[kp_id]
    _need(p, "group_name")
    code = kb.codes[kp_id][0]
    groups = {kb.points[k]["group_name"] for k in kb.by_code[(p["rule_class"], code)]}
    members = [k for k, q in kb.points.items() if q["rule_class"] == p["rule_class"]
               and q["group_name"] == p["group_name"] and kb.codes[k][0] != code]
    if not members:
        raise NotEvaluable("折价组内只有这一个项目")

    def shared(k):
        other = kb.codes[k][0]
        return groups & {kb.points[x]["group_name"] for x in kb.by_code[(p["rule_class"], other)]}
    main = min(members, key=lambda k: (len(shared(k)), kb.codes[k][0]))
    first_group = min(shared(main))
    expected = {k for k in kb.by_code[(p["rule_class"], code)] if kb.points[k]["group_name"] == first_group}
    if kp_id not in expected:  # the rule reports a line once, under the first group it belongs to
        raise NotEvaluable(f"项目同属多个折价组，组内其他项目都与「{first_group}」重叠，明细只按该组报告")
    day, fire_psn, neg_psn = test_day(p, 1), f"P{i}F", f"P{i}N"
    for psn, price in ((fire_psn, 1000), (neg_psn, 500)):
        e = g.encounter(psn, day, 1, med_type="21")
        g.line(e, kb.codes[main][0], day, 8, med_chrgitm_type="06", pric=2000, pric_uplmt_amt=2000)
        g.line(e, code, day, 9, med_chrgitm_type="06", pric=price, pric_uplmt_amt=1000)
    return fire_psn, neg_psn, expected


def point_case(kb, kp_id, g, i):
    p = kb.points[kp_id]
    if p["rule_class"] == "医疗服务项目重复收费":
        return pair_case(kb, kp_id, g, i)
    if p["rule_class"] == "手术项目未按规定折价收费":
        return surgery_case(kb, kp_id, g, i)
    build = BUILDERS.get(p["rule_class"])
    if build is None:
        raise NotEvaluable("本验证尚未为该规则类构造用例")
    span_limit = p.get(SPANS.get(p["rule_class"], ""), None)
    span = int(span_limit or 0) + 2
    day = test_day(p, span)
    start = day - dt.timedelta(days=31) if build is second_line else day  # 二线: the earlier evidence line
    code, expected = pick_code(kb, kp_id, start, day + dt.timedelta(days=span))
    fire_psn, neg_psn = f"P{i}F", f"P{i}N"
    probe = Given()
    build(p, code, day, probe, fire_psn, True)  # raises NotEvaluable before anything is added to g
    build(p, code, day, g, fire_psn, True)
    build(p, code, day, g, neg_psn, False)
    return fire_psn, neg_psn, expected


@dataclass
class ClassResult:
    rule_class: str
    rule_ids: list[str]
    total: int
    correct: int = 0
    evaluated: int = 0
    wrong: list[tuple[str, str]] = field(default_factory=list)
    not_evaluable: list[tuple[str, str, str]] = field(default_factory=list)  # kp_id, item, reason
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        return not self.rule_ids


def verify_class(base_db: Path, work: Path, kb: KbView, rule_class: str, rules: list, n: int = 0) -> ClassResult:
    from fundguard.engine.runner import run_audit
    from fundguard.rules.cases import build_store
    from fundguard.store.db import connect

    started = time.perf_counter()
    kp_ids = sorted(k for k, p in kb.points.items() if p["rule_class"] == rule_class)
    result = ClassResult(rule_class, [r.rule_id for r in rules], len(kp_ids))
    if not rules:
        return result
    g, cases = Given(), {}
    for i, kp_id in enumerate(kp_ids, start=1):
        try:
            cases[kp_id] = point_case(kb, kp_id, g, i)
        except NotEvaluable as exc:
            result.not_evaluable.append((kp_id, kb.points[kp_id]["item_name"], str(exc)))
    con = connect(":memory:")  # the imported knowledge base is copied in; the case rows stay in memory
    try:
        con.execute(f"ATTACH '{base_db}' AS kbsrc (READ_ONLY)")
        for table in ("kb_imports", "kb_points", "kb_point_codes", "kb_point_sources"):
            con.execute(f"INSERT INTO {table} SELECT * FROM kbsrc.{table}")
        con.execute("DETACH kbsrc")
        build_store(g.tables(), con)
        run = run_audit(con, rules=rules)
        failed = [r for r in run.results if r.status != "ok"]
        assert not failed, f"{rule_class}: 规则执行失败 {failed[0].rule_id}：{failed[0].message}"
        fired: dict[str, set[str]] = {}
        for psn, kp in con.execute("SELECT psn_no, kp_id FROM findings WHERE run_id = ?", [run.run_id]).fetchall():
            fired.setdefault(psn, set()).add(kp)
    finally:
        con.close()
    for kp_id, (fire_psn, neg_psn, expected) in cases.items():
        result.evaluated += 1
        got_fire, got_neg = fired.get(fire_psn, set()), fired.get(neg_psn, set())
        if got_fire == expected and not got_neg:
            result.correct += 1
        else:
            why = f"应命中 {sorted(expected)}，实际命中 {sorted(got_fire)}；不应命中的用例命中 {sorted(got_neg)}"
            result.wrong.append((kp_id, why))
    result.seconds = time.perf_counter() - started
    return result


def render(results: list[ClassResult], seconds: float) -> str:
    """The verification section of docs/knowledge-base.md (Markdown)."""
    lines = ["| 规则类 | 规则 | 知识点 | 可评估 | 正确 | 正确率 | 不可评估 |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in sorted(results, key=lambda r: (-r.total, r.rule_class)):
        rate = f"{r.correct / r.evaluated:.0%}" if r.evaluated else "—"
        rules = ", ".join(r.rule_ids) if r.rule_ids else "（尚无规则，跳过）"
        lines.append(f"| {r.rule_class} | {rules} | {r.total} | {r.evaluated} | {r.correct} | {rate} | "
                     f"{len(r.not_evaluable)} |")
    total = sum(r.total for r in results)
    evaluated = sum(r.evaluated for r in results)
    correct = sum(r.correct for r in results)
    lines.append(f"| **合计** | | **{total}** | **{evaluated}** | **{correct}** | "
                 f"**{correct / evaluated:.1%}** | **{sum(len(r.not_evaluable) for r in results)}** |")
    lines.append("")
    lines.append(f"验证用时 {seconds:.0f} 秒（DuckDB，每个规则类一个库，每个知识点一名命中、一名不命中的参保人）。")
    reasons: dict[tuple[str, str], list[str]] = {}
    for r in results:
        for _, item, reason in r.not_evaluable:
            key = (r.rule_class, reason.split("：")[0])
            reasons.setdefault(key, []).append(item)
    if reasons:
        lines += ["", "不可评估的知识点（按原因归并）：", "", "| 规则类 | 原因 | 知识点数 | 示例 |", "|---|---|---:|---|"]
        for (cls, reason), items in sorted(reasons.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            lines.append(f"| {cls} | {reason} | {len(items)} | {'、'.join(sorted(set(items))[:4])} |")
    return "\n".join(lines)
