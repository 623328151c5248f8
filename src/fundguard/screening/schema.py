"""Tables the screening writes: runs, indicators vs peers, screen hits, groups, risk scores, labels and models.

Every row carries the ``run_id`` of the screening run that produced it; readers take the latest run whose
status is ``ok`` (see ``queries.latest_run``). ``screen_labels`` holds confirmed outcomes (from the workflow)
and ``screen_models`` the supervised score models trained on them (see ``model.py``).
"""

from __future__ import annotations

SCREENING_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS seq_screen_run START 1",
    """CREATE TABLE IF NOT EXISTS screen_runs (
        run_id BIGINT PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
        period_label VARCHAR, period_begin DATE, period_end DATE, audit_run_id BIGINT, params VARCHAR,
        stage_seconds VARCHAR, encounters BIGINT, fee_lines BIGINT, message VARCHAR)""",
    # One row per (subject, indicator): the value, its peer group and where it stands (水位 and robust z);
    # comparable is false when the subject had to fall back to the coarsest group (no real peers).
    """CREATE TABLE IF NOT EXISTS screen_indicators (
        run_id BIGINT, subject_type VARCHAR, subject_id VARCHAR, fixmedins_code VARCHAR, indicator VARCHAR,
        value DOUBLE, volume DOUBLE, peer_group VARCHAR, peer_level INTEGER, comparable BOOLEAN, peer_n INTEGER,
        peer_median DOUBLE, peer_p90 DOUBLE, pct_rank DOUBLE, robust_z DOUBLE)""",
    # One row per screen hit; strength in [0, 1] is what the risk score reads, metrics is a JSON object.
    """CREATE TABLE IF NOT EXISTS screen_results (
        run_id BIGINT, screen_id VARCHAR, screen_name VARCHAR, subject_type VARCHAR, subject_id VARCHAR,
        subject_name VARCHAR, fixmedins_code VARCHAR, rank INTEGER, strength DOUBLE, metric DOUBLE,
        metrics VARCHAR, reason VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS screen_groups (
        run_id BIGINT, group_id VARCHAR, size INTEGER, fixmedins_code VARCHAR, strength DOUBLE,
        members VARCHAR, doctors VARCHAR, metrics VARCHAR, reasons VARCHAR)""",
    # Which institutions a person or doctor belongs to (the fixmedins_code filter of hospital users).
    """CREATE TABLE IF NOT EXISTS screen_subject_medins (
        run_id BIGINT, subject_type VARCHAR, subject_id VARCHAR, fixmedins_code VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS risk_scores (
        run_id BIGINT, subject_type VARCHAR, subject_id VARCHAR, subject_name VARCHAR, fixmedins_code VARCHAR,
        score DOUBLE, rank INTEGER, n_subjects INTEGER, risk_level VARCHAR, model VARCHAR, evidence VARCHAR,
        reasons VARCHAR)""",
    # Confirmed outcomes: label 1 = violation confirmed, 0 = checked and cleared (written by the workflow).
    """CREATE TABLE IF NOT EXISTS screen_labels (
        subject_type VARCHAR, subject_id VARCHAR, label INTEGER, source VARCHAR, confirmed_at TIMESTAMP,
        note VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS screen_models (
        model_id BIGINT, subject_type VARCHAR, trained_at TIMESTAMP, n_pos INTEGER, n_neg INTEGER,
        features VARCHAR, coefs VARCHAR, intercept DOUBLE, cv_auc DOUBLE, active BOOLEAN)""",
)

RESULT_TABLES = ("screen_indicators", "screen_results", "screen_groups", "screen_subject_medins", "risk_scores")


def init_screening_schema(con) -> None:
    for ddl in SCREENING_DDL:
        con.execute(ddl)
