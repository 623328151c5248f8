"""The risk score per institution, doctor, person and group, with its Chinese explanation.

Default (no confirmed outcomes yet): a noisy-OR blend of the evidence, ``score = 1 − Π_k (1 − w_k · s_k)``, where
``s_k`` ∈ [0, 1] is the strength of evidence k (rule findings, each screen, the anomaly model) and ``w_k`` its expert
weight (``WEIGHTS``): one strong, specific signal is enough to rank a subject high, several independent ones raise it
further, and unsupervised anomaly alone (w ≤ 0.35; 0.25 for doctors and persons, below the medium level) can
never reach the high-risk level. Each evidence contributes
``−ln(1 − w_k · s_k)``; the explanation lists the largest contributions with the facts behind them.

With an active supervised model (``model.py``) the score is its probability and the contributions are
coefficient × strength; everything else (storage, ranking, reasons) is unchanged.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import pyarrow as pa

from fundguard.screening import model as model_mod
from fundguard.screening.registry import BY_ID

WEIGHTS: dict[str, dict[str, float]] = {
    "medins": {"rules": 0.9, "S02": 0.8, "S03": 0.7, "S04": 0.5, "S05": 0.8, "S06": 0.6, "S07": 0.7, "S08": 0.7,
               "S09": 0.8, "S10": 0.6, "S11": 0.4, "S13": 0.8, "anomaly": 0.35},
    "doctor": {"rules": 0.8, "S11": 0.9, "S12": 0.85, "anomaly": 0.25},
    "person": {"rules": 0.8, "S01": 0.8, "S02": 0.5, "S04": 0.5, "S05": 0.85, "S06": 0.6, "S07": 0.7, "S13": 0.8,
               "anomaly": 0.25},
    "group": {"S13": 1.0},
}
# Evidence read from the same indicators (peer comparison and the anomaly model over them) is one family: within a
# family only the strongest weighted item counts, so one deviation is not counted two or three times.
FAMILIES = {"S08": "peer", "S10": "peer", "anomaly": "peer"}
HIGH, MEDIUM = 0.6, 0.3
LABELS = {"rules": "智能审核疑点", "anomaly": "指标综合异常", **{k: v.name for k, v in BY_ID.items()}}


def risk_level(score: float) -> str:
    return "高风险" if score >= HIGH else ("中风险" if score >= MEDIUM else "低风险")


def score_subject(stype: str, items: dict[str, tuple], model=None) -> tuple[float, str, dict, list[str]]:
    """items: evidence key → (strength, reason, detail). Returns score, model label, evidence record, reasons."""
    strengths = {k: v[0] for k, v in items.items()}
    if model is not None:
        score, parts = model.predict(strengths)
        contrib = {k: max(0.0, parts.get(k, 0.0)) for k in items}
        label = f"supervised:{model.model_id}"
    else:
        contrib = {k: -math.log(max(1e-9, 1 - WEIGHTS[stype].get(k, 0.0) * s)) for k, s in strengths.items()}
        best: dict[str, str] = {}
        for k in sorted(contrib, key=lambda k: -contrib[k]):
            fam = FAMILIES.get(k)
            if fam is not None:
                if fam in best:
                    contrib[k] = 0.0
                else:
                    best[fam] = k
        score = 1 - math.exp(-sum(contrib.values()))
        label = "blend"
    total = sum(contrib.values()) or 1.0
    order = sorted(items, key=lambda k: (-contrib[k], k))
    reasons = [f"【{LABELS[k]}】{_strip(items[k][1], LABELS[k])}" for k in order
               if contrib[k] > 0 and contrib[k] / total >= 0.05][:3]
    evidence = {k: {"strength": round(items[k][0], 4), "weight": WEIGHTS[stype].get(k),
                    "contribution": round(contrib[k], 4), "reason": items[k][1], "detail": items[k][2]} for k in order}
    return score, label, evidence, reasons


def rescore(con, run_id: int | None = None) -> dict[str, int]:
    """Score a stored run again from its recorded evidence, with the models active now (after training on confirmed
    outcomes, or after deactivating them); ranks, levels and reasons are rewritten. Returns subjects per type."""
    from fundguard.screening.queries import latest_run

    run_id = run_id or latest_run(con)
    if run_id is None:
        return {}
    models = {st: model_mod.active_model(con, st) for st in WEIGHTS}
    rows = con.execute("SELECT subject_type, subject_id, evidence FROM risk_scores WHERE run_id = ?", [run_id]).fetchall()
    out = []
    for stype, sid, ev in rows:
        items = {k: (v["strength"], v["reason"], v.get("detail")) for k, v in json.loads(ev).items()}
        score, label, evidence, reasons = score_subject(stype, items, models.get(stype))
        out.append((stype, sid, round(score, 6), label, json.dumps(evidence, ensure_ascii=False),
                    json.dumps(reasons, ensure_ascii=False)))
    con.execute("CREATE OR REPLACE TEMP TABLE _rescore (subject_type VARCHAR, subject_id VARCHAR, score DOUBLE, "
                "model VARCHAR, evidence VARCHAR, reasons VARCHAR)")
    if out:
        con.executemany("INSERT INTO _rescore VALUES (?, ?, ?, ?, ?, ?)", out)
    con.execute(f"""UPDATE risk_scores r SET score = x.score, model = x.model, evidence = x.evidence, reasons = x.reasons,
                        risk_level = CASE WHEN x.score >= {HIGH} THEN '高风险' WHEN x.score >= {MEDIUM} THEN '中风险'
                                          ELSE '低风险' END
                    FROM _rescore x WHERE r.run_id = {int(run_id)} AND r.subject_type = x.subject_type
                      AND r.subject_id = x.subject_id""")
    con.execute(f"""UPDATE risk_scores r SET rank = x.rk FROM (
                        SELECT subject_type, subject_id, CAST(row_number() OVER (PARTITION BY subject_type
                               ORDER BY score DESC, subject_id) AS INTEGER) AS rk
                        FROM risk_scores WHERE run_id = {int(run_id)}) x
                    WHERE r.run_id = {int(run_id)} AND r.subject_type = x.subject_type AND r.subject_id = x.subject_id""")
    return dict(con.execute(f"SELECT subject_type, count(*) FROM risk_scores WHERE run_id = {int(run_id)} GROUP BY 1").fetchall())


def compute_scores(con, run_id: int) -> dict[str, int]:
    ev = con.execute("SELECT subject_type, subject_id, key, strength, reason, detail FROM _ev WHERE strength > 0").fetchall()
    by_subject: dict[tuple[str, str], dict[str, tuple]] = defaultdict(dict)
    for stype, sid, key, s, reason, detail in ev:
        if key in WEIGHTS.get(stype, {}):
            old = by_subject[(stype, sid)].get(key)
            if old is None or s > old[0]:
                by_subject[(stype, sid)][key] = (min(1.0, float(s)), reason, detail)
    models = {st: model_mod.active_model(con, st) for st in WEIGHTS}
    cols: dict[str, list] = defaultdict(list)
    for (stype, sid), items in by_subject.items():
        score, label, evidence, reasons = score_subject(stype, items, models.get(stype))
        cols["subject_type"].append(stype)
        cols["subject_id"].append(sid)
        cols["score"].append(round(score, 6))
        cols["model"].append(label)
        cols["evidence"].append(json.dumps(evidence, ensure_ascii=False))
        cols["reasons"].append(json.dumps(reasons, ensure_ascii=False))
    if not cols:
        return {}
    con.register("_scores_arrow", pa.table(dict(cols)))
    con.execute(f"""INSERT INTO risk_scores
        WITH s AS (SELECT * FROM _scores_arrow),
             n AS (SELECT 'medins' AS subject_type, count(DISTINCT fixmedins_code) AS n FROM sc_enc
                   UNION ALL SELECT 'doctor', count(DISTINCT doc_code) FROM sc_enc
                   UNION ALL SELECT 'person', count(DISTINCT psn_no) FROM sc_enc
                   UNION ALL SELECT 'group', count(*) FROM screen_groups WHERE run_id = {run_id}),
             home AS (SELECT subject_type, subject_id, arg_max(fixmedins_code, strength) AS medins FROM screen_results
                      WHERE run_id = {run_id} AND fixmedins_code IS NOT NULL GROUP BY ALL),
             visits AS (SELECT psn_no, arg_max(fixmedins_code, c) AS medins FROM (
                            SELECT psn_no, fixmedins_code, count(*) AS c FROM sc_enc GROUP BY ALL) GROUP BY 1),
             dhome AS (SELECT doc_code, arg_max(fixmedins_code, c) AS medins FROM (
                            SELECT doc_code, fixmedins_code, count(*) AS c FROM sc_enc GROUP BY ALL) GROUP BY 1)
        SELECT {run_id}, s.subject_type, s.subject_id,
               CASE s.subject_type WHEN 'medins' THEN m.fixmedins_name WHEN 'doctor' THEN coalesce(d.doc_name, s.subject_id)
                    WHEN 'person' THEN coalesce(p.psn_name, s.subject_id) ELSE coalesce(gr.subject_name, s.subject_id) END,
               CASE s.subject_type WHEN 'medins' THEN s.subject_id
                    WHEN 'doctor' THEN coalesce(d.fixmedins_code, dh.medins, h.medins)
                    ELSE coalesce(h.medins, v.medins) END,
               s.score, CAST(row_number() OVER (PARTITION BY s.subject_type ORDER BY s.score DESC, s.subject_id) AS INTEGER),
               CAST(greatest(n.n, count(*) OVER (PARTITION BY s.subject_type)) AS INTEGER),
               CASE WHEN s.score >= {HIGH} THEN '高风险' WHEN s.score >= {MEDIUM} THEN '中风险' ELSE '低风险' END,
               s.model, s.evidence, s.reasons
        FROM s JOIN n USING (subject_type)
        LEFT JOIN sc_medins m ON s.subject_type = 'medins' AND m.fixmedins_code = s.subject_id
        LEFT JOIN sc_doc d ON s.subject_type = 'doctor' AND d.doc_code = s.subject_id
        LEFT JOIN dhome dh ON s.subject_type = 'doctor' AND dh.doc_code = s.subject_id
        LEFT JOIN sc_psn p ON s.subject_type = 'person' AND p.psn_no = s.subject_id
        LEFT JOIN visits v ON s.subject_type = 'person' AND v.psn_no = s.subject_id
        LEFT JOIN home h ON h.subject_type = s.subject_type AND h.subject_id = s.subject_id
        LEFT JOIN (SELECT subject_id, any_value(subject_name) AS subject_name FROM screen_results
                   WHERE run_id = {run_id} AND subject_type = 'group' GROUP BY 1) gr
          ON s.subject_type = 'group' AND gr.subject_id = s.subject_id""")
    con.unregister("_scores_arrow")
    # institutions a scored doctor or person belongs to (the filter of hospital users)
    con.execute(f"""INSERT INTO screen_subject_medins
        SELECT DISTINCT {run_id}, 'person', e.psn_no, e.fixmedins_code FROM sc_enc e
        JOIN risk_scores r ON r.run_id = {run_id} AND r.subject_type = 'person' AND r.subject_id = e.psn_no
        UNION ALL
        SELECT DISTINCT {run_id}, 'doctor', e.doc_code, e.fixmedins_code FROM sc_enc e
        JOIN risk_scores r ON r.run_id = {run_id} AND r.subject_type = 'doctor' AND r.subject_id = e.doc_code
        UNION ALL
        SELECT {run_id}, 'group', group_id, fixmedins_code FROM screen_groups WHERE run_id = {run_id}
        UNION ALL
        SELECT {run_id}, 'medins', subject_id, subject_id FROM risk_scores WHERE run_id = {run_id} AND subject_type = 'medins'""")
    return dict(con.execute(f"SELECT subject_type, count(*) FROM risk_scores WHERE run_id = {run_id} GROUP BY 1").fetchall())


def _strip(reason: str, label: str) -> str:
    """Screen reasons come as '<screen name>：<facts>'; the label already names the screen."""
    return reason[len(label) + 1:] if reason.startswith(label + "：") else reason
