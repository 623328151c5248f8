"""Confirmed outcomes and the supervised score model trained on them.

The workflow records each checked subject with ``record_label`` (1 = violation confirmed, 0 = checked and cleared).
``train_model`` fits a logistic regression (scikit-learn, balanced classes) whose inputs are exactly the evidence
strengths the default blend uses (rules, every screen, anomaly), so the learned coefficients replace the expert
weights one for one and explanations keep the same form (coefficient × strength). When a subject type has an
active model, ``score.compute_scores`` uses it; otherwise the documented noisy-OR blend of expert weights.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

SUBJECT_TYPES = ("medins", "doctor", "person", "group")


@dataclass
class Model:
    model_id: int
    subject_type: str
    coefs: dict[str, float]
    intercept: float
    n_pos: int
    n_neg: int
    cv_auc: float | None

    def predict(self, strengths: dict[str, float]) -> tuple[float, dict[str, float]]:
        parts = {k: c * strengths.get(k, 0.0) for k, c in self.coefs.items()}
        z = self.intercept + sum(parts.values())
        return 1 / (1 + math.exp(-z)), parts


def record_label(con, subject_type: str, subject_id: str, label: int, source: str = "workflow", note: str = "",
                 confirmed_at: dt.datetime | None = None) -> None:
    if subject_type not in SUBJECT_TYPES or label not in (0, 1):
        from fundguard.errors import ConfigError

        raise ConfigError(f"核实结果不合规：对象类型 {subject_type!r}、结论 {label!r}（1 查实违规，0 查无问题）")
    con.execute("INSERT INTO screen_labels VALUES (?, ?, ?, ?, ?, ?)",
                [subject_type, subject_id, label, source, confirmed_at or dt.datetime.now(), note])


def active_model(con, subject_type: str) -> Model | None:
    row = con.execute("""SELECT model_id, coefs, intercept, n_pos, n_neg, cv_auc FROM screen_models
                         WHERE subject_type = ? AND active ORDER BY model_id DESC LIMIT 1""", [subject_type]).fetchone()
    if row is None:
        return None
    return Model(row[0], subject_type, json.loads(row[1]), row[2], row[3], row[4], row[5])


def train_model(con, subject_type: str, keys: list[str], run_id: int | None = None, min_labels: int = 20,
                min_per_class: int = 5) -> Model | None:
    """Fit on the latest label of every labelled subject and the evidence of screening run ``run_id`` (default: the
    latest). Returns None (and changes nothing) when there are too few labels of either class."""
    from fundguard.screening.queries import latest_run

    run_id = run_id or latest_run(con)
    if run_id is None:
        return None
    rows = con.execute("""
        WITH l AS (SELECT subject_id, arg_max(label, confirmed_at) AS label FROM screen_labels
                   WHERE subject_type = ? GROUP BY subject_id)
        SELECT l.label, r.evidence FROM l LEFT JOIN risk_scores r
          ON r.run_id = ? AND r.subject_type = ? AND r.subject_id = l.subject_id""",
                       [subject_type, run_id, subject_type]).fetchall()
    y = [int(r[0]) for r in rows]
    n_pos, n_neg = sum(y), len(y) - sum(y)
    if len(y) < min_labels or n_pos < min_per_class or n_neg < min_per_class:
        return None
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    x = np.zeros((len(rows), len(keys)))
    for i, (_, ev) in enumerate(rows):
        for k, item in (json.loads(ev) if ev else {}).items():
            if k in keys:
                x[i, keys.index(k)] = float(item.get("strength", 0.0))
    clf = LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000)
    folds = min(5, n_pos, n_neg)
    auc = float(np.mean(cross_val_score(clf, x, y, cv=folds, scoring="roc_auc"))) if folds >= 2 else None
    clf.fit(x, y)
    coefs = {k: round(float(c), 6) for k, c in zip(keys, clf.coef_[0])}
    model_id = (con.execute("SELECT max(model_id) FROM screen_models").fetchone()[0] or 0) + 1
    con.execute("UPDATE screen_models SET active = false WHERE subject_type = ?", [subject_type])
    con.execute("INSERT INTO screen_models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true)",
                [model_id, subject_type, dt.datetime.now(), n_pos, n_neg, json.dumps(keys), json.dumps(coefs),
                 float(clf.intercept_[0]), auc])
    return Model(model_id, subject_type, coefs, float(clf.intercept_[0]), n_pos, n_neg, auc)


def deactivate(con, subject_type: str) -> None:
    """Go back to the expert blend for this subject type."""
    con.execute("UPDATE screen_models SET active = false WHERE subject_type = ?", [subject_type])
