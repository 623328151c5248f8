"""The DuckDB engine looks up the amounts of all rules' rows in one pass over the working set
(``DuckDBEngine.fetch_rules``); each rule must get exactly the rows the one-rule-at-a-time path gives
(``adapters.fetch_each``: its rows joined with the whole working set)."""

from __future__ import annotations

import pytest

from fundguard.engine.adapters import DuckDBEngine, fetch_each
from fundguard.ingest.loader import load_dir
from fundguard.kb.builtin import ensure_builtin
from fundguard.rules.library import default_library
from fundguard.store.db import connect
from fundguard.synth import SynthConfig, generate_city


def _rows(table) -> list[tuple]:
    columns = table.column_names
    return sorted((tuple(str(v) for v in row.values()) for row in table.to_pylist()), key=str) if columns else []


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("batched")
    generate_city(SynthConfig(persons=800, seed=7, out_dir=root / "city", violation_rate=0.05))
    con = connect(root / "store.duckdb")
    load_dir(con, root / "city")
    ensure_builtin(con)
    eng = DuckDBEngine(con)
    eng.prepare()
    yield eng
    eng.close()
    con.close()


def test_one_lookup_for_all_rules_gives_each_rule_its_own_amounts(engine):
    rules = list(default_library())
    jobs = [(r.sql, r.meta.param_values(None), r.meta.amount) for r in rules]
    started: list[int] = []
    batched = engine.fetch_rules(jobs, started.append)
    alone = fetch_each(engine, jobs, None)
    assert started == list(range(len(jobs)))
    lines = encounters = 0
    for rule, (got, _), (want, _) in zip(rules, batched, alone):
        assert not isinstance(want, Exception), (rule.rule_id, want)
        assert not isinstance(got, Exception), (rule.rule_id, got)
        assert got.column_names == want.column_names, rule.rule_id
        assert got.schema.types == want.schema.types, rule.rule_id
        assert _rows(got) == _rows(want), rule.rule_id
        lines += got.num_rows if "bkkp_sn" in got.column_names and got.column("__fee").null_count < got.num_rows else 0
        encounters += got.num_rows if rule.meta.amount == "encounter" else 0
    assert lines > 100 and encounters > 10  # both lookups were exercised


def test_a_failing_rule_is_reported_and_the_others_still_get_their_amounts(engine):
    rule = next(r for r in default_library() if r.meta.amount != "encounter")
    jobs = [("SELECT no_such_column FROM fg_line", {}, "line"), (rule.sql, rule.meta.param_values(None), rule.meta.amount)]
    (bad, _), (good, _) = engine.fetch_rules(jobs)
    assert isinstance(bad, Exception) and "no_such_column" in str(bad)
    assert _rows(good) == _rows(fetch_each(engine, jobs[1:], None)[0][0])
