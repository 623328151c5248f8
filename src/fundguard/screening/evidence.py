"""Evidence for the risk score, one row per (subject, key) with a strength in [0, 1] and a Chinese reason:
rule findings of the audit (key ``rules``), screen hits (key = screen id) and the unsupervised anomaly score
(key ``anomaly``: IsolationForest over the subject's one-sided robust z-scores against its peers).

Rule evidence is computed in ``rule_evidence.py``.
"""

from __future__ import annotations

import json

import numpy as np

from fundguard.screening.indicators import BY_CODE

# indicators the anomaly model reads per subject type (ratios and behaviour, not volume or illness severity)
ANOMALY_FEATURES = {
    "medins": ("ZB001", "ZB002", "ZB003", "ZB004", "ZB005", "ZB006", "ZB007", "ZB008", "IP02", "IP03", "IP04", "IP05",
               "IP07", "IP08", "IP09", "IP10", *(c for c in BY_CODE if c.startswith("KF_"))),
    "doctor": ("ZB001", "ZB002", "ZB003", "ZB004", "ZB005", "ZB006", "ZB008", "IP02", "IP03", "IP04", "IP08", "IP09",
               "IP10"),
    "person": ("P01", "P04", "P05", "P06"),
}


from fundguard.screening.rule_evidence import rule_evidence  # noqa: F401  (re-exported for the runner)


def start(con) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE _ev (subject_type VARCHAR, subject_id VARCHAR, key VARCHAR,
                   strength DOUBLE, reason VARCHAR, detail VARCHAR)""")


def screen_evidence(con, run_id: int) -> None:
    con.execute(f"""INSERT INTO _ev
        SELECT subject_type, subject_id, screen_id, max(strength), arg_max(screen_name || '：' || reason, strength),
               arg_max(metrics, strength)
        FROM screen_results WHERE run_id = {run_id} AND strength > 0
          AND subject_type IN ('medins', 'doctor', 'person', 'group')
        GROUP BY subject_type, subject_id, screen_id""")


def anomaly_evidence(con, run_id: int, seed: int = 0) -> None:
    from sklearn.ensemble import IsolationForest

    for stype, feats in ANOMALY_FEATURES.items():
        rows = con.execute(f"""
            SELECT subject_id, list(indicator), list(CASE WHEN comparable OR subject_type = 'person'
                                                          THEN greatest(robust_z, 0) ELSE 0 END),
                   list(value), list(peer_median), list(pct_rank)
            FROM screen_indicators WHERE run_id = {run_id} AND subject_type = '{stype}'
              AND indicator IN ({', '.join(f"'{f}'" for f in feats)})
            GROUP BY subject_id ORDER BY subject_id""").fetchall()
        if len(rows) < 20:
            continue
        col = {f: k for k, f in enumerate(feats)}
        x = np.zeros((len(rows), len(feats)))
        for r, (_, inds, zs, *_rest) in enumerate(rows):
            for ind, z in zip(inds, zs):
                x[r, col[ind]] = min(float(z or 0), 20.0)
        if not x.any():
            continue
        model = IsolationForest(n_estimators=100, max_samples=min(256, len(rows)), random_state=seed)
        model.fit(x)
        score = -model.score_samples(x)
        med = float(np.median(score))
        mad = float(np.median(np.abs(score - med))) * 1.4826 or 1e-9
        sz = (score - med) / mad
        out = []
        for r in np.nonzero((sz > 3) & (x.max(axis=1) >= 3))[0]:
            sid, inds, zs, vals, meds, pcts = rows[r]
            top = sorted(zip(zs, inds, vals, meds, pcts), key=lambda t: -(t[0] or 0))[:2]
            parts = [f"{BY_CODE[i].name}{_fmt(i, v)}（同类中位数{_fmt(i, m)}，水位P{int((p or 0) * 100)}）"
                     for z, i, v, m, p in top if (z or 0) >= 3]
            if not parts:
                continue
            out.append((stype, sid, "anomaly", min(1.0, (sz[r] - 3) / 6), "多项指标综合异常（孤立森林）：" + "；".join(parts),
                        json.dumps({"异常分": round(float(score[r]), 4), "稳健z": round(float(sz[r]), 2)}, ensure_ascii=False)))
        if out:
            con.executemany("INSERT INTO _ev VALUES (?, ?, ?, ?, ?, ?)", out)


def _fmt(code: str, v) -> str:
    ind = BY_CODE[code]
    v = float(v or 0)
    return f"{v:.1%}" if ind.kind in ("share", "rate") else f"{v:,.1f}{ind.unit}"
