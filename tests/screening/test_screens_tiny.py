"""Screens, indicators and peer statistics on a hand-written tiny store: every expected number worked out by hand."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from fundguard.errors import ConfigError
from fundguard.screening.period import parse_period
from fundguard.screening.runner import run_screening
from fundguard.screening.screens_time import _bursts
from fundguard.store.db import connect
from tests.screening.tiny import Tiny

DX5 = ("J18.9", "K29.7", "I10", "M54.5", "R42")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("tiny") / "tiny.duckdb")
    t = Tiny(con)
    # H1: a staff member admitted twice in her own hospital; P02 admitted five times (every 40 days)
    t.medins("H1", "甲医院")
    t.person("P01")
    t.staff("H1", "GQ01", "P01")
    t.stay("P01", "H1", "2025-02-03")
    t.stay("P01", "H1", "2025-06-02")
    t.person("P02")
    for k in range(5):
        t.stay("P02", "H1", (dt.date(2025, 1, 6) + dt.timedelta(days=40 * k)).isoformat())
    # H2: four villagers of V1 admitted the same day; eight ordinary stays from elsewhere
    t.medins("H2", "乙医院")
    for k in range(4):
        t.person(f"V1{k}", vlg="320600100200", addr="江海市如平县东兴镇王庄村1组")
        t.stay(f"V1{k}", "H2", "2025-03-10")
    for k in range(8):
        t.person(f"Q2{k}")
        t.stay(f"Q2{k}", "H2", (dt.date(2025, 1, 15) + dt.timedelta(days=30 * k)).isoformat())
    # H3: 25 stays at one amount over five diagnoses (template bills); H4: 25 stays at one amount, one diagnosis
    for code, dxs in (("H3", DX5), ("H4", ("H25.9",))):
        t.medins(code, f"{code}医院")
        for k in range(25):
            t.person(f"{code}P{k:02d}")
            t.stay(f"{code}P{k:02d}", code, (dt.date(2025, 1, 2) + dt.timedelta(days=13 * k)).isoformat(),
                   dx=dxs[k % len(dxs)], fee=812.30)
    # H10–H15: one stay each, drug shares 0.1 … 0.5 and 0.9 (same peer group)
    for k, share in enumerate((0.1, 0.2, 0.3, 0.4, 0.5, 0.9)):
        code = f"H1{k}"
        t.medins(code, f"丙{k}医院")
        t.person(f"R{k}")
        t.stay(f"R{k}", code, "2025-04-01", fee=5000.0,
               lines=(("09", "XA01", "西药甲", share), ("03", "002103000010000", "头颅CT平扫", 1 - share)))
    run = run_screening(con, "2025")
    yield con, run
    con.close()


def _hits(con, run, screen, subject_type, subject_id=None):
    sql = "SELECT subject_id, strength, reason, metrics FROM screen_results WHERE run_id = ? AND screen_id = ? AND subject_type = ?"
    args = [run.run_id, screen, subject_type]
    if subject_id:
        sql += " AND subject_id = ?"
        args.append(subject_id)
    return con.execute(sql + " ORDER BY rank", args).fetchall()


def test_staff_admitted_twice_in_own_hospital(tiny):
    con, run = tiny
    [(sid, strength, reason, _)] = _hits(con, run, "S05", "person")
    assert sid == "P01" and strength == pytest.approx(0.6)
    assert reason.startswith("本院职工在本院（甲医院）住院2次")
    [(sid, strength, reason, _)] = _hits(con, run, "S05", "medins")
    assert sid == "H1" and strength == pytest.approx(1 / 3, abs=1e-4) and "1名本院职工" in reason


def test_five_admissions_hit_high_frequency_and_same_institution(tiny):
    con, run = tiny
    [(sid, strength, reason, metrics)] = _hits(con, run, "S01", "person")
    assert sid == "P02" and strength == pytest.approx(0.5 + 0.5 * 1 / 4)   # 5 stays, threshold 4, full at 8
    assert "期间住院5次" in reason and json.loads(metrics)["住院次数"] == 5
    s06 = {r[0]: r[1] for r in _hits(con, run, "S06", "person")}
    assert s06 == {"P02": pytest.approx(0.4 + 0.6 * 2 / 3)}                 # 5 stays, threshold 3, full at 6


def test_villagers_admitted_together_form_an_event(tiny):
    con, run = tiny
    hits = _hits(con, run, "S07", "person")
    assert sorted(h[0] for h in hits) == ["V10", "V11", "V12", "V13"]
    assert all("与同村村民共4人于2025-03-10同期入住乙医院" in h[2] for h in hits)
    [(sid, _, reason, _)] = _hits(con, run, "S07", "medins")
    assert sid == "H2" and "1次同村" in reason


def test_template_amounts_need_several_diagnoses(tiny):
    con, run = tiny
    [(sid, strength, reason, metrics)] = _hits(con, run, "S03", "medins")
    assert sid == "H3" and strength == 1.0                                    # H4: one diagnosis, a standard price
    assert "812.30元附近25人次，涉及5种不同主诊断" in reason
    assert json.loads(metrics)["落在多病种同金额的人次"] == 25


def test_indicator_value_percentile_and_robust_z(tiny):
    con, run = tiny
    rows = dict(con.execute("""SELECT subject_id, [value, pct_rank, robust_z, peer_median, peer_n] FROM screen_indicators
                               WHERE run_id = ? AND subject_type = 'medins' AND indicator = 'ZB001'
                                 AND subject_id LIKE 'H1_'""", [run.run_id]).fetchall())
    value, pct, z, med, n = rows["H15"]
    # peers (same type, grade and ownership): all ten hospitals with enough fees
    assert value == pytest.approx(0.9) and n == 10 and pct == 1.0
    others = [0.4] * 4 + [0.1, 0.2, 0.3, 0.4, 0.5, 0.9]                      # H1–H4 use 40 % drugs
    m = float(np.median(others))
    mad = float(np.median(np.abs(np.array(others) - m)))
    assert med == pytest.approx(m) and z == pytest.approx((0.9 - m) / max(1.4826 * mad, 0.1 * m, 0.01))


def test_risk_scores_name_their_reasons(tiny):
    con, run = tiny
    reasons = json.loads(con.execute("SELECT reasons FROM risk_scores WHERE run_id = ? AND subject_type = 'person' "
                                     "AND subject_id = 'P01'", [run.run_id]).fetchone()[0])
    assert reasons[0].startswith("【本院职工本院住院】本院职工在本院（甲医院）住院2次")


def test_bursts_every_other_monday_are_all_found():
    days = 182
    counts = np.full((1, days), 1.0)
    bursts = np.arange(7, days, 14)
    counts[0, bursts] = 10
    found, expected, _p = _bursts(counts, np.ones(days), half=14, min_n=5, p_max=1e-6)
    assert np.array_equal(np.nonzero(found[0])[0], bursts)
    assert expected[0, bursts[5]] == pytest.approx(1.0)                     # the baseline ignores the other bursts
    quiet = np.full((1, days), 3.0)
    quiet[0, 50] = 8                                                          # 8 against 3 a day is not a burst
    assert not _bursts(quiet, np.ones(days), half=14, min_n=5, p_max=1e-6)[0].any()


@pytest.mark.parametrize("text, begin, end", [
    ("2025", "2025-01-01", "2025-12-31"), ("2025H2", "2025-07-01", "2025-12-31"), ("2025Q1", "2025-01-01", "2025-03-31"),
    ("2025-02", "2025-02-01", "2025-02-28"), ("2025-03-05:2025-04-01", "2025-03-05", "2025-04-01")])
def test_periods(text, begin, end):
    p = parse_period(text)
    assert (p.begin.isoformat(), p.end.isoformat()) == (begin, end)


def test_bad_period_is_a_config_error():
    with pytest.raises(ConfigError, match="无法识别的筛查期间"):
        parse_period("去年")
