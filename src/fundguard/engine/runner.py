"""Run the rule library over a store: one run, every selected rule, findings stored with the run."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import duckdb

from fundguard.engine import findings as findings_mod
from fundguard.engine.adapters import DuckDBEngine, SparkEngine
from fundguard.rules.library import Rule, default_library, select_rules

# progress(rule, index, total) is called before each rule runs.
Progress = Callable[[Rule, int, int], None]


@dataclass
class RuleResult:
    rule_id: str
    name: str
    hits: int
    findings: int
    vola_amt: decimal.Decimal
    seconds: float
    status: str = "ok"
    message: str = ""


@dataclass
class AuditRun:
    run_id: int
    engine: str
    results: list[RuleResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def findings(self) -> int:
        return sum(r.findings for r in self.results)

    @property
    def vola_amt(self) -> decimal.Decimal:
        return sum((r.vola_amt for r in self.results), decimal.Decimal("0"))


def make_engine(con: duckdb.DuckDBPyConnection, name: str):
    if name == "duckdb":
        return DuckDBEngine(con)
    if name == "spark":
        return SparkEngine.from_store(con)
    raise ValueError(f"未知的引擎 {name!r}")


def run_audit(con: duckdb.DuckDBPyConnection, *, rule_ids: list[str] | None = None, engine: str = "duckdb",
              rules: list[Rule] | None = None, params: dict[str, dict[str, Any]] | None = None,
              progress: Progress | None = None, engine_obj=None) -> AuditRun:
    """Run the selected rules (default: every enabled rule) and store their findings under a new run."""
    selected = select_rules(rules if rules is not None else default_library(), rule_ids)
    started = time.perf_counter()
    run_id = con.execute("SELECT nextval('seq_audit_run')").fetchone()[0]
    kb_import = con.execute("SELECT max(import_id) FROM kb_imports").fetchone()[0]
    data_batch = con.execute("SELECT max(batch_id) FROM load_batches WHERE status = 'ok'").fetchone()[0]
    con.execute(
        "INSERT INTO audit_runs (run_id, started_at, engine, status, rules, kb_import_id, data_batch_id) "
        "VALUES (?, ?, ?, 'running', ?, ?, ?)",
        [run_id, dt.datetime.now(), engine, json.dumps([r.rule_id for r in selected]), kb_import, data_batch])
    run = AuditRun(run_id=run_id, engine=engine)
    eng = engine_obj or make_engine(con, engine)
    try:
        eng.prepare()
        values = [rule.meta.param_values((params or {}).get(rule.rule_id)) for rule in selected]

        def before(i: int) -> None:
            if progress:
                progress(selected[i], i + 1, len(selected))

        fetched = eng.fetch_rules([(rule.sql, v, rule.meta.amount) for rule, v in zip(selected, values)], before)
        for rule, v, (hits, seconds) in zip(selected, values, fetched):
            run.results.append(_store_rule(con, run_id, rule, v, hits, seconds))
        status = "ok" if all(r.status == "ok" for r in run.results) else "partial"
    except Exception as exc:
        status = "failed"
        con.execute("UPDATE audit_runs SET status = 'failed', message = ?, finished_at = ? WHERE run_id = ?",
                    [str(exc), dt.datetime.now(), run_id])
        raise
    finally:
        if engine_obj is None:
            eng.close()
    run.seconds = time.perf_counter() - started
    con.execute("UPDATE audit_runs SET status = ?, finished_at = ?, findings = ?, vola_amt = ? WHERE run_id = ?",
                [status, dt.datetime.now(), run.findings, run.vola_amt, run_id])
    return run


def _store_rule(con, run_id: int, rule: Rule, params: dict[str, Any], hits, seconds: float) -> RuleResult:
    """Findings of one rule's rows (or its failure: ``hits`` is the exception) stored with the run."""
    started = time.perf_counter()
    try:
        if isinstance(hits, Exception):
            raise hits
        count, amount = findings_mod.assemble(con, run_id, rule, hits, params)
        result = RuleResult(rule.rule_id, rule.meta.name, hits.num_rows, count, amount,
                            seconds + time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others; it is recorded
        result = RuleResult(rule.rule_id, rule.meta.name, 0, 0, decimal.Decimal("0"),
                            seconds + time.perf_counter() - started, status="failed",
                            message=f"{type(exc).__name__}: {exc}")
    con.execute("INSERT INTO audit_run_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, rule.rule_id, rule.version, json.dumps(params, ensure_ascii=False, default=str),
                 result.hits, result.findings, result.vola_amt, result.seconds, result.status, result.message])
    return result
