"""The read functions the web app calls, and the supervised score trained on confirmed outcomes."""

from __future__ import annotations

import itertools

import pytest

from fundguard.screening import model, score
from fundguard.screening.evaluate import planted_actors
from fundguard.screening.queries import risk_ranking, run_info, screen_list, subject_profile


def test_risk_ranking_is_ordered_and_explained(dirty):
    rows = risk_ranking(dirty.con, "medins", limit=10, run_id=dirty.run.run_id)
    assert len(rows) == 10
    assert [r["rank"] for r in rows] == list(range(1, 11))
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(rows))
    assert set(rows[0]) >= {"subject_id", "subject_name", "score", "rank", "reasons"}
    assert rows[0]["subject_name"] and all(isinstance(x, str) for x in rows[0]["reasons"])


def test_hospital_users_see_only_their_institution(dirty):
    con, run = dirty.con, dirty.run.run_id
    code = risk_ranking(con, "medins", limit=1, run_id=run)[0]["subject_id"]
    [me] = risk_ranking(con, "medins", fixmedins_code=code, run_id=run)
    assert me["subject_id"] == code and me["rank"] == 1
    persons = risk_ranking(con, "person", limit=500, fixmedins_code=code, run_id=run)
    assert persons and [p["rank"] for p in persons] == list(range(1, len(persons) + 1))
    visited = {r[0] for r in con.execute("SELECT DISTINCT psn_no FROM mdtrt_d WHERE fixmedins_code = ?", [code]).fetchall()}
    assert {p["subject_id"] for p in persons} <= visited
    doctors = risk_ranking(con, "doctor", limit=100, fixmedins_code=code, run_id=run)
    staff = {r[0] for r in con.execute("SELECT DISTINCT chfpdr_code FROM mdtrt_d WHERE fixmedins_code = ?", [code]).fetchall()}
    assert doctors and {d["subject_id"] for d in doctors} <= staff
    assert risk_ranking(con, "medins", fixmedins_code="H00000000000", run_id=run) == []


def test_subject_profile_has_screens_and_indicators_against_peers(dirty):
    con, run = dirty.con, dirty.run.run_id
    top = risk_ranking(con, "medins", limit=1, run_id=run)[0]
    p = subject_profile(con, "medins", top["subject_id"], run)
    assert p["rank"] == 1 and p["reasons"] == top["reasons"] and p["risk_level"] == "高风险"
    assert p["screens"] and all({"screen_id", "screen_name", "metrics", "reason"} <= set(s) for s in p["screens"])
    zb = {i["indicator"]: i for i in p["indicators"]}
    assert {"ZB001", "ZB002", "ZB008", "IP01"} <= set(zb)
    assert 0 <= zb["ZB001"]["percentile"] <= 100 and zb["ZB001"]["peer_n"] >= 2
    assert subject_profile(con, "person", "no-such-person", run) is None
    with pytest.raises(ValueError):
        risk_ranking(con, "hospital")


def test_screen_lists_and_run_info(dirty):
    info = run_info(dirty.con, dirty.run.run_id)
    assert info["encounters"] == dirty.run.encounters and "base" in info["stage_seconds"]
    assert info["params"]["S01"]["min_admissions"] == 4
    items = screen_list(dirty.con, "S09", "item", run_id=dirty.run.run_id)
    assert any(i["subject_id"].startswith("全市:") for i in items)   # the city's largest items are listed


def test_confirmed_outcomes_train_a_supervised_score(dirty):
    con, run = dirty.con, dirty.run.run_id
    planted = planted_actors(con, dirty.truth)["person"]
    scored = [r[0] for r in con.execute("SELECT subject_id FROM risk_scores WHERE run_id = ? AND subject_type = 'person' "
                                        "ORDER BY subject_id", [run]).fetchall()]
    positives = [p for p in scored if p in planted][:20]
    negatives = [p for p in scored if p not in planted][:40]
    for p in positives:
        model.record_label(con, "person", p, 1, source="test")
    for p in negatives:
        model.record_label(con, "person", p, 0, source="test")
    keys = list(score.WEIGHTS["person"])
    m = model.train_model(con, "person", keys, run_id=run)
    assert m is not None and (m.n_pos, m.n_neg) == (20, 40) and m.cv_auc > 0.9
    try:
        score.rescore(con, run)
        rows = risk_ranking(con, "person", limit=40, run_id=run)
        assert {r["subject_id"] for r in rows[:20]} & planted
        assert con.execute("SELECT count(*) FROM risk_scores WHERE run_id = ? AND subject_type = 'person' "
                           "AND model <> ?", [run, f"supervised:{m.model_id}"]).fetchone()[0] == 0
        assert sum(1 for r in rows[:30] if r["subject_id"] in planted) >= 24
    finally:
        model.deactivate(con, "person")
        con.execute("DELETE FROM screen_labels WHERE source = 'test'")
        score.rescore(con, run)
    assert con.execute("SELECT count(DISTINCT model) FROM risk_scores WHERE run_id = ?", [run]).fetchone()[0] == 1


def test_too_few_labels_keep_the_expert_blend(dirty):
    model.record_label(dirty.con, "doctor", "D0", 1, source="test-few")
    try:
        assert model.train_model(dirty.con, "doctor", list(score.WEIGHTS["doctor"]), run_id=dirty.run.run_id) is None
        assert model.active_model(dirty.con, "doctor") is None
    finally:
        dirty.con.execute("DELETE FROM screen_labels WHERE source = 'test-few'")


def test_department_indicators_against_peers(dirty):
    from fundguard.screening.queries import indicator_table

    rows = indicator_table(dirty.con, "dept", "ZB001", limit=5, run_id=dirty.run.run_id)
    assert rows and ":" in rows[0]["subject_id"] and rows[0]["name"] == "药费占比"
    assert all(a["robust_z"] >= b["robust_z"] for a, b in itertools.pairwise(rows))
