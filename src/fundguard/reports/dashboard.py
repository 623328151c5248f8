"""The bureau chief's picture at a glance: fund paid, findings and amounts by rule, institution and month.

Read from the analytic store (DuckDB) for the latest audit run. Scoped: an institution user sees only its own
institution's figures; every query filters on ``institution_scope(principal)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fundguard.rules.model import VOLA_BHVR_TYPES
from fundguard.workflow.access import institution_scope, require

ZERO = Decimal(0)


@dataclass
class Totals:
    fund_paid: Decimal = ZERO
    medfee: Decimal = ZERO
    settlements: int = 0
    persons: int = 0
    institutions: int = 0
    findings: int = 0
    vola_amt: Decimal = ZERO
    sev1_findings: int = 0
    sev1_amt: Decimal = ZERO
    flagged_institutions: int = 0

    @property
    def vola_rate(self) -> float | None:
        return float(self.vola_amt / self.fund_paid) if self.fund_paid else None


@dataclass
class Dashboard:
    run_id: int | None
    run_finished_at: Any
    scope: str | None
    totals: Totals
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    by_institution: list[dict[str, Any]] = field(default_factory=list)
    by_month: list[dict[str, Any]] = field(default_factory=list)
    by_category: list[dict[str, Any]] = field(default_factory=list)
    risk_ranking: list[dict[str, Any]] | None = None  # None: screening has not run


def latest_run(con) -> tuple[int | None, Any]:
    row = con.execute("""SELECT run_id, finished_at FROM audit_runs WHERE status IN ('ok', 'partial')
                         ORDER BY run_id DESC LIMIT 1""").fetchone()
    return (row[0], row[1]) if row else (None, None)


def _rows(con, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# A finding's month: its settlement's, else its encounter's start.
_FINDINGS = """
    SELECT f.*, strftime(coalesce(s.setl_time, m.begntime), '%Y-%m') AS period
    FROM findings f
    LEFT JOIN setl_d s ON s.setl_id = f.setl_id
    LEFT JOIN mdtrt_d m ON m.mdtrt_id = f.mdtrt_id
    WHERE f.run_id = ? AND (CAST(? AS VARCHAR) IS NULL OR f.fixmedins_code = ?)"""
_SETTLEMENTS = """
    SELECT s.*, strftime(s.setl_time, '%Y-%m') AS period FROM setl_d s
    WHERE coalesce(s.vali_flag, '1') <> '0' AND coalesce(s.refd_setl_flag, '0') <> '1'
      AND (CAST(? AS VARCHAR) IS NULL OR s.fixmedins_code = ?)"""


def dashboard(con, principal, *, top: int = 10) -> Dashboard:
    """Figures for the latest audit run, limited to what the principal may see."""
    require(principal, "dashboard.read")
    scope = institution_scope(principal)
    run_id, finished = latest_run(con)
    board = Dashboard(run_id=run_id, run_finished_at=finished, scope=scope, totals=Totals())
    t = board.totals
    setl = con.execute(f"""SELECT coalesce(sum(fund_pay_sumamt), 0), coalesce(sum(medfee_sumamt), 0), count(*),
                                  count(DISTINCT psn_no), count(DISTINCT fixmedins_code) FROM ({_SETTLEMENTS})""",
                       [scope, scope]).fetchone()
    t.fund_paid, t.medfee, t.settlements, t.persons, t.institutions = setl
    months = {r["period"]: r for r in _rows(con, f"""
        SELECT period, sum(fund_pay_sumamt) AS fund_paid, count(*) AS settlements
        FROM ({_SETTLEMENTS}) GROUP BY period ORDER BY period""", [scope, scope]) if r["period"]}
    if run_id is not None:
        params = [run_id, scope, scope]
        agg = con.execute(f"""SELECT count(*), coalesce(sum(vola_amt), 0), count(*) FILTER (WHERE sev_deg = 1),
                                     coalesce(sum(vola_amt) FILTER (WHERE sev_deg = 1), 0),
                                     count(DISTINCT fixmedins_code)
                              FROM ({_FINDINGS})""", params).fetchone()
        t.findings, t.vola_amt, t.sev1_findings, t.sev1_amt, t.flagged_institutions = agg
        board.by_rule = _rows(con, f"""
            SELECT rule_id, any_value(rule_name) AS rule_name, min(sev_deg) AS sev_deg, count(*) AS findings,
                   sum(vola_amt) AS vola_amt, count(DISTINCT fixmedins_code) AS institutions
            FROM ({_FINDINGS}) GROUP BY rule_id ORDER BY vola_amt DESC, findings DESC LIMIT {int(top)}""", params)
        board.by_institution = _rows(con, f"""
            WITH f AS (SELECT fixmedins_code, count(*) AS findings, sum(vola_amt) AS vola_amt,
                              count(*) FILTER (WHERE sev_deg = 1) AS sev1
                       FROM ({_FINDINGS}) WHERE fixmedins_code IS NOT NULL GROUP BY fixmedins_code),
                 s AS (SELECT fixmedins_code, sum(fund_pay_sumamt) AS fund_paid FROM setl_d
                       WHERE coalesce(vali_flag, '1') <> '0' AND coalesce(refd_setl_flag, '0') <> '1'
                       GROUP BY fixmedins_code)
            SELECT f.fixmedins_code, coalesce(i.fixmedins_name, f.fixmedins_code) AS fixmedins_name, f.findings,
                   f.sev1, f.vola_amt, s.fund_paid,
                   CASE WHEN s.fund_paid > 0 THEN CAST(f.vola_amt AS DOUBLE) / CAST(s.fund_paid AS DOUBLE) END
                       AS vola_rate
            FROM f LEFT JOIN s USING (fixmedins_code) LEFT JOIN medins_info i USING (fixmedins_code)
            ORDER BY f.vola_amt DESC, f.findings DESC LIMIT {int(top)}""", params)
        for r in _rows(con, f"""SELECT period, count(*) AS findings, sum(vola_amt) AS vola_amt
                                FROM ({_FINDINGS}) WHERE period IS NOT NULL GROUP BY period""", params):
            months.setdefault(r["period"], {"period": r["period"], "fund_paid": ZERO, "settlements": 0}).update(r)
        board.by_category = [
            {**r, "label": VOLA_BHVR_TYPES.get(r["vola_bhvr_type"], r["vola_bhvr_type"])}
            for r in _rows(con, f"""SELECT vola_bhvr_type, count(*) AS findings, sum(vola_amt) AS vola_amt
                                   FROM ({_FINDINGS}) GROUP BY vola_bhvr_type ORDER BY vola_amt DESC""", params)]
    board.by_month = [{"findings": 0, "vola_amt": ZERO, **months[k]} for k in sorted(months)]
    board.risk_ranking = risk_ranking(con, "medins", scope, limit=top)
    return board


def risk_ranking(con, subject_type: str, scope: str | None, limit: int = 10) -> list[dict[str, Any]] | None:
    """Screening's risk ranking (institution-scoped); None until `fundguard screen` has run on this store."""
    from fundguard.screening import queries

    if queries.latest_run(con) is None:
        return None
    return queries.risk_ranking(con, subject_type, limit=limit, fixmedins_code=scope)
