"""run_screening: one screening run over a store — working set, indicators, screens, groups, evidence, scores."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fundguard.screening import base, evidence, groups, indicators, score
from fundguard.screening import screens_admission as sa
from fundguard.screening import screens_fields as sf
from fundguard.screening import screens_time as st
from fundguard.screening.context import Ctx
from fundguard.screening.period import Period, parse_period, resolve
from fundguard.screening.registry import all_params
from fundguard.screening.schema import RESULT_TABLES, init_screening_schema

# progress(stage description, index, total) is called before each stage
Progress = Callable[[str, int, int], None]

SCREEN_STEPS: tuple[tuple[str, Callable[[Ctx], None]], ...] = (
    ("S01", sa.s01_high_frequency), ("S04", sa.s04_key_groups), ("S05", sa.s05_staff_own),
    ("S06", sa.s06_repeat_institution), ("S02", st.s02_bursts), ("S03", st.s03_amount_spikes),
    ("S11", st.s11_readmission), ("S07", groups.s07_events), ("S13", groups.s13_communities),
    ("S08", sf.s08_key_fields), ("S09", sf.s09_items), ("S10", sf.s10_zb), ("S12", st.s12_doctor_flags),
)


@dataclass
class ScreenRun:
    run_id: int
    period: Period
    audit_run_id: int | None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    encounters: int = 0
    fee_lines: int = 0
    hits: int = 0
    scored: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds.values())


def run_screening(con, period: str | Period | None = None, *, params: dict[str, dict[str, Any]] | None = None,
                  audit_run_id: int | None = None, progress: Progress | None = None, keep_runs: int = 3,
                  keep_base: bool = False) -> ScreenRun:
    """Screen the store's admissions in ``period`` (default: all of them) and store indicators, screen hits, groups
    and risk scores under a new screening run. Rule findings come from audit run ``audit_run_id`` (default: the
    latest audit run, none when the store was never audited)."""
    init_screening_schema(con)
    per = resolve(con, period if isinstance(period, Period) else parse_period(period))
    lo, hi = con.execute("SELECT min(CAST(begntime AS DATE)), max(CAST(begntime AS DATE)) FROM mdtrt_d").fetchone()
    covers_all = lo is None or (per.begin <= lo and per.end >= hi)
    if audit_run_id is None:
        audit_run_id = con.execute("SELECT max(run_id) FROM findings").fetchone()[0]
    values = all_params(params)
    run_id = con.execute("SELECT nextval('seq_screen_run')").fetchone()[0]
    con.execute("INSERT INTO screen_runs (run_id, started_at, status, period_label, period_begin, period_end, "
                "audit_run_id, params) VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                [run_id, dt.datetime.now(), per.label, per.begin, per.end, audit_run_id,
                 json.dumps(values, ensure_ascii=False)])
    run = ScreenRun(run_id, per, audit_run_id)
    ctx = Ctx(con, run_id, per, values)
    ctx.start_hits()
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("base", lambda: _base(con, per, covers_all, run)),
        ("indicators", lambda: indicators.compute_indicators(con, run_id, per)),
        *((sid, (lambda f=f: f(ctx))) for sid, f in SCREEN_STEPS),
        ("hits", lambda: setattr(run, "hits", ctx.finish_hits())),
        ("evidence", lambda: _evidence(con, run_id, audit_run_id)),
        ("score", lambda: setattr(run, "scored", score.compute_scores(con, run_id))),
    ]
    try:
        for k, (name, fn) in enumerate(stages, start=1):
            if progress:
                progress(STAGE_NAMES.get(name, name), k, len(stages))
            t = time.perf_counter()
            fn()
            run.stage_seconds[name] = round(time.perf_counter() - t, 3)
    except Exception as exc:
        con.execute("UPDATE screen_runs SET status = 'failed', message = ?, finished_at = ? WHERE run_id = ?",
                    [f"{type(exc).__name__}: {exc}", dt.datetime.now(), run_id])
        raise
    finally:
        if not keep_base:
            base.drop_base(con)
    con.execute("UPDATE screen_runs SET status = 'ok', finished_at = ?, stage_seconds = ?, encounters = ?, fee_lines = ? "
                "WHERE run_id = ?", [dt.datetime.now(), json.dumps(run.stage_seconds), run.encounters, run.fee_lines,
                                     run_id])
    prune_runs(con, keep_runs)
    return run


def _base(con, per: Period, covers_all: bool, run: ScreenRun) -> None:
    counts = base.build_base(con, per, covers_all)
    run.encounters, run.fee_lines = counts["encounters"], counts["fee_lines"]


def _evidence(con, run_id: int, audit_run_id: int | None) -> None:
    evidence.start(con)
    evidence.screen_evidence(con, run_id)
    evidence.rule_evidence(con, audit_run_id)
    evidence.anomaly_evidence(con, run_id)


def prune_runs(con, keep: int) -> None:
    """Keep the results of the latest ``keep`` successful runs (the run table itself is kept whole)."""
    if keep <= 0:
        return
    old = [r[0] for r in con.execute("SELECT run_id FROM screen_runs WHERE status = 'ok' ORDER BY run_id DESC "
                                     f"OFFSET {int(keep)}").fetchall()]
    failed = [r[0] for r in con.execute("SELECT run_id FROM screen_runs WHERE status <> 'ok'").fetchall()]
    ids = old + failed
    if ids:
        for table in RESULT_TABLES:
            con.execute(f"DELETE FROM {table} WHERE run_id IN ({', '.join(str(i) for i in ids)})")


STAGE_NAMES = {"base": "准备筛查数据", "indicators": "计算指标与同类水位", "hits": "整理筛查结果", "evidence": "汇总证据（规则、筛查、异常）",
               "score": "计算风险评分", **{sid: f"筛查 {sid}" for sid, _ in SCREEN_STEPS}}
