"""The working set every rule reads: fee lines and encounters joined once with the facts rules need.

Each entry is (name, SELECT in DuckDB dialect). Adapters materialise them (DuckDB temp tables, Spark
cached views), so the knowledge and person joins are paid once per run, not once per rule. Rule
authors read these names; they never see how they are built.

Amounts: a line's fund share ``line_fund`` is its in-scope amount (``inscp_amt``, or the fee minus the
full-own-pay and pre-self-pay parts) times the settlement's ratio fund_pay_sumamt / Σ in-scope amounts.
"""

from __future__ import annotations

# hosp_lv 01–04 三级, 05–07 二级, 08–10 一级, 12 一级, 13 二级, 14 三级, others (11 无等级) 0.
HOSP_GRADE = """CASE WHEN {c} IN ('01','02','03','04','14') THEN 3 WHEN {c} IN ('05','06','07','13') THEN 2
                    WHEN {c} IN ('08','09','10','12') THEN 1 ELSE 0 END"""


def _age_years(d: str, b: str) -> str:
    return (f"(year({d}) - year({b}) - CASE WHEN month({d}) * 100 + day({d}) < month({b}) * 100 + day({b}) "
            f"THEN 1 ELSE 0 END)")


WORKSET: tuple[tuple[str, str], ...] = (
    ("fg_fee", """
        SELECT f.*, CAST(f.fee_ocur_time AS DATE) AS fee_date, f.det_item_fee_sumamt AS fee,
               coalesce(f.inscp_amt, f.det_item_fee_sumamt - coalesce(f.fulamt_ownpay_amt, 0)
                        - coalesce(f.preselfpay_amt, 0)) AS inscp
        FROM fee_list_d f WHERE coalesce(f.vali_flag, '1') <> '0'"""),
    ("fg_setl", """
        SELECT s.setl_id, s.mdtrt_id, s.setl_time,
               CASE WHEN t.inscp_total > 0 THEN CAST(s.fund_pay_sumamt AS DOUBLE) / CAST(t.inscp_total AS DOUBLE)
                    ELSE 0 END AS fund_ratio
        FROM setl_d s
        LEFT JOIN (SELECT setl_id, sum(inscp) AS inscp_total FROM fg_fee GROUP BY setl_id) t ON t.setl_id = s.setl_id
        WHERE coalesce(s.vali_flag, '1') <> '0' AND coalesce(s.refd_setl_flag, '0') <> '1'"""),
    ("fg_enc", f"""
        SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.med_type, m.begntime, m.endtime,
               CAST(m.begntime AS DATE) AS begn_date, CAST(coalesce(m.endtime, m.begntime) AS DATE) AS end_date,
               date_diff('day', CAST(m.begntime AS DATE), CAST(coalesce(m.endtime, m.begntime) AS DATE)) AS los_days,
               coalesce(m.gend, p.gend) AS gend, coalesce(m.brdy, p.brdy) AS brdy,
               coalesce(m.insutype, p.insutype) AS insutype, coalesce(m.die_date, p.die_date) AS die_date,
               coalesce(i.hosp_lv, m.hosp_lv) AS hosp_lv,
               {HOSP_GRADE.format(c='coalesce(i.hosp_lv, m.hosp_lv)')} AS hosp_grade,
               i.fixmedins_type, i.medins_type, i.agreement_status, i.agreement_begn_date,
               i.agreement_end_date, i.prac_scope, i.fixmedins_name, m.dscg_way,
               {_age_years('CAST(m.begntime AS DATE)', 'coalesce(m.brdy, p.brdy)')} AS age_years
        FROM mdtrt_d m
        LEFT JOIN psn_info p ON p.psn_no = m.psn_no
        LEFT JOIN medins_info i ON i.fixmedins_code = m.fixmedins_code
        WHERE coalesce(m.vali_flag, '1') <> '0'"""),
    ("fg_line", f"""
        SELECT f.bkkp_sn, f.mdtrt_id, f.setl_id, f.psn_no, f.fixmedins_code, f.fee_ocur_time, f.fee_date,
               f.hilist_code, f.hilist_name, f.med_chrgitm_type, f.list_type, f.cnt, f.pric, f.fee,
               f.pric_uplmt_amt, f.inscp, f.bilg_dept_codg, f.bilg_dept_name, f.bilg_dr_code,
               f.rx_drord_no, f.prd_days,
               CAST(f.inscp AS DOUBLE) * coalesce(s.fund_ratio, 0) AS line_fund,
               e.med_type, e.gend, e.brdy, e.insutype, e.hosp_lv, e.hosp_grade, e.endtime,
               e.begn_date, e.end_date, e.medins_type, e.fixmedins_type,
               {_age_years('f.fee_date', 'e.brdy')} AS age_years,
               date_diff('day', e.brdy, f.fee_date) AS age_days
        FROM fg_fee f
        JOIN fg_enc e ON e.mdtrt_id = f.mdtrt_id
        LEFT JOIN fg_setl s ON s.setl_id = f.setl_id"""),
    ("fg_enc_amt", """
        SELECT mdtrt_id, sum(fee) AS enc_fee, sum(line_fund) AS enc_fund, count(*) AS n_lines
        FROM fg_line GROUP BY mdtrt_id"""),
    ("fg_diag", """
        SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, d.diag_type FROM setl_list_diag_d d
        WHERE coalesce(d.vali_flag, '1') <> '0'
        UNION ALL
        SELECT m.mdtrt_id, m.dscg_maindiag_code, m.dscg_maindiag_name, '1', 'M' FROM mdtrt_d m
        WHERE m.dscg_maindiag_code IS NOT NULL AND coalesce(m.vali_flag, '1') <> '0'"""),
    ("fg_oprn", """
        SELECT o.mdtrt_id, o.setl_list_oprn_id, o.oprn_oprt_code, o.oprn_oprt_name, o.main_oprn_flag,
               o.oprn_oprt_date, CAST(o.oprn_oprt_date AS DATE) AS oprn_date, o.oper_dr_code
        FROM setl_list_oprn_d o WHERE coalesce(o.vali_flag, '1') <> '0'"""),
    ("fg_kb", """
        SELECT p.*, c.hilist_code, c.role,
               coalesce(p.effective_from, DATE '1900-01-01') AS eff_from,
               coalesce(p.effective_to, DATE '9999-12-31') AS eff_to
        FROM kb_points p JOIN kb_point_codes c ON c.kp_id = p.kp_id"""),
)

WORKSET_NAMES = tuple(name for name, _ in WORKSET)

# Entries that are views, not copies: ``fg_fee`` is read only while the working set is built (copying every
# fee-line column of a city-year costs more than any single rule); ``fg_diag`` is a union of two base tables
# with no join, so its readers scan them as fast as a copy (measured: the 8 diagnosis rules took the same time),
# and the 2–3 s copy of a city-year's 6 M diagnoses is saved.
WORKSET_VIEWS = frozenset({"fg_fee", "fg_diag"})
