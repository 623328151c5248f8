"""Tables the engine writes: audit runs, per-rule statistics, findings (疑点)."""

from __future__ import annotations

ENGINE_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS seq_audit_run START 1",
    """CREATE TABLE IF NOT EXISTS audit_runs (
        run_id BIGINT PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, engine VARCHAR, status VARCHAR,
        rules VARCHAR, kb_import_id BIGINT, data_batch_id BIGINT, findings BIGINT, vola_amt DECIMAL(18,2),
        message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS audit_run_rules (
        run_id BIGINT, rule_id VARCHAR, rule_version VARCHAR, params VARCHAR, hits BIGINT, findings BIGINT,
        vola_amt DECIMAL(18,2), seconds DOUBLE, status VARCHAR, message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS findings (
        run_id BIGINT, jr_id VARCHAR, rule_id VARCHAR, rule_name VARCHAR, sev_deg INTEGER, vola_bhvr_type VARCHAR,
        mdtrt_id VARCHAR, setl_id VARCHAR, psn_no VARCHAR, fixmedins_code VARCHAR, hilist_code VARCHAR,
        hilist_name VARCHAR, bkkp_sn VARCHAR, line_cnt INTEGER, vola_fee DECIMAL(18,2), vola_amt DECIMAL(18,2),
        vola_cont VARCHAR, vola_evid VARCHAR, kp_id VARCHAR, bilg_dr_code VARCHAR, grp VARCHAR, evidence VARCHAR)""",
)

# Contract §4 columns, in order; exports may add columns after these.
EXPORT_COLUMNS = ("jr_id", "rule_id", "rule_name", "sev_deg", "vola_bhvr_type", "mdtrt_id", "setl_id", "psn_no",
                  "fixmedins_code", "hilist_code", "bkkp_sn", "vola_amt", "vola_cont", "vola_evid", "kp_id")


def init_engine_schema(con) -> None:
    for ddl in ENGINE_DDL:
        con.execute(ddl)
