"""Findings (DuckDB) → 疑点 items (workflow database): one item per jr_id, idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert, select, update

from fundguard.workflow.models import Item, LogEntryRow
from fundguard.workflow.transitions import STATE_DEADLINE_SETTING, Event, State
from fundguard.workflow.workdays import WorkCalendar

SYSTEM_NAME = "系统"
_CHUNK = 2000

_FIELDS = ("jr_id", "run_id", "rule_id", "rule_name", "sev_deg", "vola_bhvr_type", "mdtrt_id", "setl_id", "psn_no",
           "fixmedins_code", "hilist_code", "hilist_name", "vola_amt", "vola_cont", "vola_evid", "kp_id")


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def findings_sql(tables: set[str]) -> str:
    """Select a run's findings with the period (YYYY-MM of the settlement, else of the encounter) and the
    institution's name, using whichever national tables are present."""
    joins, period, name = [], [], []
    if "setl_d" in tables:
        joins.append("LEFT JOIN (SELECT setl_id, min(setl_time) AS t, any_value(fixmedins_name) AS n FROM setl_d "
                     "GROUP BY setl_id) s ON s.setl_id = f.setl_id")
        joins.append("LEFT JOIN (SELECT mdtrt_id, min(setl_time) AS t FROM setl_d GROUP BY mdtrt_id) sm "
                     "ON sm.mdtrt_id = f.mdtrt_id")
        period += ["s.t", "sm.t"]
        name.append("s.n")
    if "mdtrt_d" in tables:
        joins.append("LEFT JOIN (SELECT mdtrt_id, min(coalesce(endtime, begntime)) AS t, "
                     "any_value(fixmedins_name) AS n FROM mdtrt_d GROUP BY mdtrt_id) m ON m.mdtrt_id = f.mdtrt_id")
        period.append("m.t")
        name.append("m.n")
    if "medins_info" in tables:
        joins.append("LEFT JOIN (SELECT fixmedins_code, any_value(fixmedins_name) AS n FROM medins_info "
                     "GROUP BY fixmedins_code) mi ON mi.fixmedins_code = f.fixmedins_code")
        name.insert(0, "mi.n")
    period_expr = f"strftime(coalesce({', '.join(period)}), '%Y-%m')" if period else "NULL"
    name_expr = f"coalesce({', '.join(name)})" if name else "NULL"
    cols = ", ".join(f"f.{c}" for c in _FIELDS)
    return (f"SELECT {cols}, {period_expr} AS period, {name_expr} AS fixmedins_name FROM findings f "
            + " ".join(joins) + " WHERE f.run_id = ? ORDER BY f.jr_id")


def import_findings(db, con, run_id: int | None, now: dt.datetime) -> int:
    """Create the items of a run that do not exist yet; returns how many were created. Items already present
    (same jr_id: same data and rule) keep their state and history; their ``last_run_id`` moves to this run."""
    tables = _tables(con)
    if "findings" not in tables:
        return 0
    if run_id is None:
        run_id = con.execute("SELECT max(run_id) FROM findings").fetchone()[0]
        if run_id is None:
            return 0
    cursor = con.execute(findings_sql(tables), [run_id])
    names = [d[0] for d in cursor.description]
    created = 0
    with db.session() as s:
        calendar = WorkCalendar.load(s)
        days = getattr(db.settings, STATE_DEADLINE_SETTING[State.pending_first])
        deadline = calendar.add_workdays(now.date(), days)
        existing = set(s.scalars(select(Item.jr_id)))
        seen: set[str] = set()
        while True:
            batch = cursor.fetchmany(_CHUNK)
            if not batch:
                break
            items, logs, again = [], [], []
            for row in batch:
                rec = dict(zip(names, row))
                jr_id = rec["jr_id"]
                if jr_id is None or jr_id in seen:
                    continue
                seen.add(jr_id)
                if jr_id in existing:
                    again.append(jr_id)
                    continue
                rec["vola_amt"] = Decimal(str(rec["vola_amt"] or 0)).quantize(Decimal("0.01"))
                rec.update(last_run_id=run_id, state=State.pending_first.value, state_since=now, deadline=deadline,
                           imported_at=now, version=1)
                items.append(rec)
                logs.append({"jr_id": jr_id, "at": now, "actor_id": None, "actor_name": SYSTEM_NAME,
                             "actor_role": None, "action": Event.imported.value, "from_state": None,
                             "to_state": State.pending_first.value, "reason": f"审核批次 {run_id} 检出",
                             "deadline": deadline, "detail": {"run_id": run_id}})
            if items:
                s.execute(insert(Item), items)
                s.execute(insert(LogEntryRow), logs)
                created += len(items)
            if again:
                s.execute(update(Item).where(Item.jr_id.in_(again)).values(last_run_id=run_id)
                          .execution_options(synchronize_session=False))
    return created
