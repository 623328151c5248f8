"""Every golden case of a real-time rule, sent as a 3101/3102 message, gives the batch engine's findings.

For each case the batch engine audits the case's rows; then, for each encounter of the case, the store is
read by the real-time service, and every encounter of the case goes into one 3101 (rules of 事前) or 3102
message, one patient entry each, with ``rule_ids`` naming the rule (the service takes an encounter's own
rows from the message only, and the others from the store as history). The answer must hold exactly the batch findings of that encounter: same
``jr_id``, rule, ``vola_amt``, ``vola_cont`` and violating lines (``rx_id`` = ``bkkp_sn``).
"""

from __future__ import annotations

import decimal

import pytest

from fundguard.engine.realtime.service import RealtimeService
from fundguard.engine.runner import run_audit
from fundguard.rules.cases import build_store
from fundguard.rules.library import default_library
from fundguard.store.db import connect
from tests.realtime.golden import applicable_infno, case_message, reads_setl_time, to_request

LIBRARY = default_library()
RULES = [r for r in LIBRARY if {"事前", "事中"} & set(r.meta.stages)]
CASES = [pytest.param(rule, case, id=f"{rule.rule_id}-{n}") for rule in RULES for n, case in enumerate(rule.cases)]


def _cents(value) -> str:
    return str(decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01")))


@pytest.fixture(scope="module")
def store():
    """One store for every case: emptied and refilled per case; one service per parameter set."""
    con = connect(":memory:")
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]
    services: dict = {}

    def load(given: dict, params: dict):
        for table in tables:
            con.execute(f"DELETE FROM {table}")
        build_store(given, con)
        key = repr(sorted(params.items()))
        if key not in services:
            services[key] = RealtimeService(con, rules=LIBRARY, workers=1, record=False, params=params)
        service = services[key]
        service.refresh()
        return con, service

    yield load
    for service in services.values():
        service.close()
    con.close()


def batch_findings(con, rule, params) -> dict[str, set]:
    run = run_audit(con, rules=[rule], params={rule.rule_id: params})
    assert all(r.status == "ok" for r in run.results), run.results
    out: dict[str, set] = {}
    for mdtrt_id, jr_id, rule_id, amt, cont, bkkp in con.execute(
            "SELECT mdtrt_id, jr_id, rule_id, vola_amt, vola_cont, bkkp_sn FROM findings WHERE run_id = ?",
            [run.run_id]).fetchall():
        out.setdefault(mdtrt_id, set()).add(
            (jr_id, rule_id, _cents(amt), cont[:500], tuple(sorted(bkkp.split(";"))) if bkkp else ()))
    return out


def realtime_findings(service, message) -> dict[str, set]:
    answer = service.call(message)
    assert answer["infcode"] == 0, answer["err_msg"]
    found: dict[str, set] = {p["curr_mdtrt_id"]: set() for p in message["input"]["data"]["patient_dtos"]}
    for r in answer["output"]["result"]:
        assert r["task_id"] == "T-CASE"
        rx = tuple(sorted(d["rx_id"] for d in r["judge_result_detail_dtos"] if d["rx_id"]))
        found[r["mdtrt_id"]].add((r["jr_id"], r["rule_id"], _cents(r["vola_amt"]), r["vola_cont"], rx))
    return found


@pytest.mark.parametrize("rule, case", CASES)
def test_realtime_gives_the_batch_findings(store, rule, case):
    message, _ = case_message(case, rule)
    if message is None:
        pytest.skip("该用例的就诊均含 3101 无法携带的数据")
    params = {rule.rule_id: case.get("params") or {}}
    con, service = store(case.get("given") or {}, params)
    expected = batch_findings(con, rule, params[rule.rule_id])
    found = realtime_findings(service, message)
    assert found == {m: expected.get(m, set()) for m in found}, case.get("name")


def test_every_realtime_rule_has_a_firing_case_that_a_message_can_carry():
    missing = []
    for rule in RULES:
        carried = [m for case in rule.cases for m in {e.get("mdtrt_id") for e in case.get("expect") or []}
                   if to_request(case, m, rule.rule_id, applicable_infno(rule),
                                 reads_setl_time=reads_setl_time(rule))[0] is not None]
        if not carried:
            missing.append(rule.rule_id)
    assert not missing, f"没有可由 3101/3102 携带、且会命中的黄金用例：{missing}"


def test_rows_lead_with_the_batch_engines_finding_key():
    """The real-time grouping reads a row's first values as the batch engine's finding key, in its order."""
    from fundguard.engine.findings import KEY
    from fundguard.engine.realtime import lite, results

    assert lite.KEY_COLUMNS[:results.R_BKKP] == KEY
    assert lite.KEY_COLUMNS[results.R_BKKP] == "bkkp_sn"
    assert len(lite.KEY_COLUMNS) + 1 + len(lite.INTERNAL) == results.R_REP
