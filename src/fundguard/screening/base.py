"""The screening working set (``sc_*`` tables): encounters of the period with their costs split by category,
persons, institutions, doctors and item-month fund use. Built once per run in a few scans of the national
tables, dropped at the end of the run.

Cost categories follow med_chrgitm_type (国家医疗收费项目类别): 01 床位 02 诊察 03 检查 04 化验 05 治疗 06 手术
07 护理 08 卫生材料 09 西药 10 中药饮片 11 中成药. Item families (CT, 核磁, 影像, 重症, 麻醉 …) are matched once per
distinct item code (``ITEM_FAMILIES``), never per line.
"""

from __future__ import annotations

from fundguard.engine.workset import HOSP_GRADE
from fundguard.screening.period import Period

INPATIENT = "(m.med_type LIKE '2%' OR m.med_type = '52')"

# Item families: SQL predicates over (code, name, chrg = med_chrgitm_type, list_type) of a distinct item.
ITEM_FAMILIES: dict[str, str] = {
    "ct": "chrg = '03' AND (code LIKE '002103%' OR regexp_matches(name, 'CT|计算机体层'))",
    "mri": "chrg = '03' AND (code LIKE '002102%' OR regexp_matches(name, '磁共振|MRI'))",
    "imaging": ("chrg = '03' AND (code LIKE '0021%' OR code LIKE '0022%' OR code LIKE '0023%' "
                "OR regexp_matches(name, 'CT|磁共振|X线|超声|造影|PET'))"),
    "icu": "regexp_matches(name, '重症监护')",
    "anes": "regexp_matches(name, '麻醉')",
    "ortho": "code LIKE '003316%' OR code LIKE 'C13%' OR regexp_matches(name, '关节置换|骨折|关节假体|椎间盘|接骨板')",
    "dialysis": "regexp_matches(name, '透析')",
    "cardio": "code LIKE '003308%' OR regexp_matches(name, '冠状动脉|起搏器|射频消融')",
    "rehab": "code LIKE '0034%' OR regexp_matches(name, '康复|功能训练|综合训练')",
}
# Hospital-acquired infection diagnoses (院内感染, ZB007), matched as ICD prefixes on any diagnosis.
HAI_PREFIXES = ("Y95", "T80.2", "T81.4", "T82.6", "T82.7", "T83.5", "T83.6", "T84.5", "T84.6", "T84.7", "T85.7")

BASE_TABLES = ("sc_rel", "sc_item_month", "sc_item", "sc_dx", "sc_fee", "sc_enc0", "sc_enc", "sc_psn", "sc_medins",
               "sc_doc", "sc_flags")


def _rel_rows(con) -> list[tuple[str, str, str]]:
    """(rel_type, code, group) for light diagnoses, planned cycles and diagnosis families: from the store's
    kb_relations when it has them, else from the built-in knowledge tables."""
    want = ("light_diag", "planned_cycle", "diag_family")
    rows: list[tuple[str, str, str]] = []
    try:
        rows = [tuple(r) for r in con.execute(
            "SELECT rel_type, code_a, coalesce(code_b, '') FROM kb_relations WHERE rel_type IN (?, ?, ?)",
            list(want)).fetchall()]
    except Exception:  # noqa: BLE001 - a store without the knowledge schema
        rows = []
    have = {r[0] for r in rows}
    if not set(want) <= have:
        from fundguard.kb.builtin import builtin_relations

        rows += [(r[0], r[1], r[2] or "") for r in builtin_relations() if r[0] in want and r[0] not in have]
    rows += [("hai", p, "") for p in HAI_PREFIXES]
    return rows


def _norm(col: str) -> str:
    return f"upper(replace({col}, '.', ''))"


def build_base(con, period: Period, covers_all: bool) -> dict[str, int]:
    """Create the sc_* tables for ``period``; returns row counts (encounters, fee lines)."""
    con.execute("CREATE OR REPLACE TABLE sc_rel (rel_type VARCHAR, code VARCHAR, grp VARCHAR)")
    con.executemany("INSERT INTO sc_rel VALUES (?, ?, ?)", _rel_rows(con))
    con.execute(f"""CREATE OR REPLACE TABLE sc_enc0 AS
        SELECT m.mdtrt_id, m.psn_no, m.fixmedins_code, m.med_type, {INPATIENT} AS ip,
               CAST(m.begntime AS DATE) AS begn_date, CAST(coalesce(m.endtime, m.begntime) AS DATE) AS end_date,
               m.chfpdr_code, coalesce(m.adm_dept_codg, m.dscg_dept_codg) AS dept_codg, m.dscg_maindiag_code,
               m.gend, m.brdy, m.ipt_days, m.hosp_lv AS enc_hosp_lv
        FROM mdtrt_d m
        WHERE coalesce(m.vali_flag, '1') <> '0' AND {period.where('CAST(m.begntime AS DATE)')}""")
    semi = "" if covers_all else "AND f.mdtrt_id IN (SELECT mdtrt_id FROM sc_enc0)"
    # item x institution x month: fund use of drugs and consumables (S09) and the distinct item list
    con.execute(f"""CREATE OR REPLACE TABLE sc_item_month AS
        SELECT f.fixmedins_code, f.hilist_code, date_trunc('month', f.fee_ocur_time)::DATE AS month,
               any_value(f.hilist_name) AS hilist_name, any_value(f.med_chrgitm_type) AS chrg,
               any_value(f.list_type) AS list_type, count(*) AS n_lines, count(DISTINCT f.mdtrt_id) AS n_enc,
               CAST(sum(f.cnt) AS DOUBLE) AS cnt,
               CAST(sum(f.det_item_fee_sumamt) AS DOUBLE) AS fee,
               CAST(sum(coalesce(f.inscp_amt, f.det_item_fee_sumamt - coalesce(f.fulamt_ownpay_amt, 0)
                   - coalesce(f.preselfpay_amt, 0))) AS DOUBLE) AS inscp
        FROM fee_list_d f WHERE coalesce(f.vali_flag, '1') <> '0' {semi}
        GROUP BY ALL""")
    fam_cols = ", ".join(f"coalesce({pred}, false) AS is_{k}" for k, pred in ITEM_FAMILIES.items())
    con.execute(f"""CREATE OR REPLACE TABLE sc_item AS
        SELECT code AS hilist_code, name AS hilist_name, chrg, list_type, {fam_cols}
        FROM (SELECT hilist_code AS code, coalesce(any_value(hilist_name), '') AS name, any_value(chrg) AS chrg,
                     any_value(list_type) AS list_type
              FROM sc_item_month GROUP BY hilist_code)""")
    fam_sums = ",\n".join(f"sum(f.det_item_fee_sumamt) FILTER (WHERE i.is_{k}) AS {k}_fee" for k in ITEM_FAMILIES)
    con.execute(f"""CREATE OR REPLACE TABLE sc_fee AS
        SELECT f.mdtrt_id, count(*) AS n_lines, sum(f.det_item_fee_sumamt) AS fee_total,
               sum(f.det_item_fee_sumamt) FILTER (WHERE f.med_chrgitm_type IN ('09', '10', '11')) AS drug_fee,
               sum(f.det_item_fee_sumamt) FILTER (WHERE f.med_chrgitm_type = '03') AS exam_fee,
               sum(f.det_item_fee_sumamt) FILTER (WHERE f.med_chrgitm_type = '04') AS lab_fee,
               sum(f.det_item_fee_sumamt) FILTER (WHERE f.med_chrgitm_type = '08') AS mcs_fee,
               sum(f.det_item_fee_sumamt) FILTER (WHERE f.med_chrgitm_type = '05') AS trt_fee,
               sum(f.det_item_fee_sumamt) FILTER (WHERE f.med_chrgitm_type IN ('01', '02', '07')) AS bed_fee,
               {fam_sums},
               any_value(f.bilg_dr_code) AS any_dr
        FROM fee_list_d f JOIN sc_item i ON i.hilist_code = f.hilist_code
        WHERE coalesce(f.vali_flag, '1') <> '0' {semi}
        GROUP BY f.mdtrt_id""")
    # diagnoses: the main one per encounter and whether any diagnosis is a hospital-acquired infection
    con.execute(f"""CREATE OR REPLACE TABLE sc_dx AS
        WITH d AS (SELECT mdtrt_id, diag_code, maindiag_flag FROM setl_list_diag_d
                   WHERE coalesce(vali_flag, '1') <> '0' AND mdtrt_id IN (SELECT mdtrt_id FROM sc_enc0)),
             codes AS (SELECT DISTINCT diag_code FROM d),
             hai AS (SELECT c.diag_code FROM codes c JOIN sc_rel r ON r.rel_type = 'hai'
                     AND starts_with({_norm('c.diag_code')}, {_norm('r.code')}))
        SELECT mdtrt_id, any_value(diag_code) FILTER (WHERE maindiag_flag = '1') AS main_dx,
               bool_or(diag_code IN (SELECT diag_code FROM hai)) AS hai
        FROM d GROUP BY mdtrt_id""")
    con.execute("""CREATE OR REPLACE TABLE sc_psn AS
        SELECT p.psn_no, p.psn_name, p.gend, p.brdy, p.insutype, p.psn_type, nullif(p.psn_idet_type, '') AS idet,
               nullif(p.fmly_no, '') AS fmly_no, nullif(p.vlg_code, '') AS vlg_code, p.addr,
               s.staff_medins, s.staff_code
        FROM psn_info p
        LEFT JOIN (SELECT psn_no, min(fixmedins_code) AS staff_medins, min(prac_psn_code) AS staff_code
                   FROM medins_staff WHERE psn_no IS NOT NULL AND psn_no <> '' GROUP BY psn_no) s
          ON s.psn_no = p.psn_no""")
    con.execute(f"""CREATE OR REPLACE TABLE sc_medins AS
        WITH base AS (
            SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.medins_type, i.hosp_lv,
                   {HOSP_GRADE.format(c='i.hosp_lv')} AS grade, coalesce(i.nonpub_flag, '0') AS nonpub,
                   i.prac_scope, i.aprv_bed_cnt,
                   -- main specialty of a specialty hospital or clinic: its first licensed subject other than
                   -- anaesthesia, laboratory, imaging (A26, A30, A32)
                   CASE WHEN i.medins_type IN ('13', '31') THEN coalesce(list_filter(string_split(i.prac_scope, ';'),
                        lambda x: x NOT IN ('A26', 'A30', 'A32'))[1], '') ELSE '' END AS specialty
            FROM medins_info i)
        SELECT *, concat_ws('|', coalesce(medins_type, fixmedins_type), grade, nonpub, specialty) AS peer1,
               concat_ws('|', coalesce(medins_type, fixmedins_type), grade) AS peer2,
               coalesce(medins_type, fixmedins_type, '?') AS peer3, coalesce(fixmedins_type, '?') AS peer4
        FROM base""")
    con.execute("""CREATE OR REPLACE TABLE sc_doc AS
        SELECT prac_psn_code AS doc_code, any_value(prac_psn_name) AS doc_name, any_value(fixmedins_code) AS fixmedins_code,
               any_value(dept_codg) AS dept_codg
        FROM medins_staff WHERE prac_psn_type = '1' GROUP BY prac_psn_code""")
    con.execute(f"""CREATE OR REPLACE TABLE sc_enc AS
        WITH mdx AS (SELECT DISTINCT main_dx FROM (
                        SELECT coalesce(e.dscg_maindiag_code, x.main_dx) AS main_dx
                        FROM sc_enc0 e LEFT JOIN sc_dx x USING (mdtrt_id)) WHERE main_dx IS NOT NULL),
             dxf AS (SELECT m.main_dx,
                            bool_or(r.rel_type = 'light_diag' AND {_norm('m.main_dx')} = {_norm('r.code')}) AS light,
                            bool_or(r.rel_type = 'planned_cycle' AND starts_with({_norm('m.main_dx')}, {_norm('r.code')}))
                                AS planned,
                            any_value(r.grp) FILTER (WHERE r.rel_type = 'diag_family'
                                AND starts_with({_norm('m.main_dx')}, {_norm('r.code')})) AS dx_family
                     FROM mdx m, sc_rel r GROUP BY m.main_dx),
             setl AS (SELECT mdtrt_id, sum(medfee_sumamt) AS medfee, sum(fund_pay_sumamt) AS fund
                      FROM setl_d WHERE coalesce(vali_flag, '1') <> '0' AND coalesce(refd_setl_flag, '0') <> '1'
                        AND mdtrt_id IN (SELECT mdtrt_id FROM sc_enc0) GROUP BY mdtrt_id)
        SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.med_type, e.ip, e.med_type = '28' AS day_surgery,
               e.begn_date, e.end_date,
               CASE WHEN e.ip THEN greatest(coalesce(e.ipt_days, date_diff('day', e.begn_date, e.end_date)), 1)
                    ELSE 0 END AS los,
               coalesce(e.chfpdr_code, f.any_dr) AS doc_code, e.dept_codg, left(e.dept_codg, 3) AS subject,
               coalesce(e.dscg_maindiag_code, x.main_dx) AS main_dx, coalesce(dxf.light, false) AS light,
               coalesce(dxf.planned, false) AS planned, coalesce(dxf.dx_family, left(coalesce(e.dscg_maindiag_code, x.main_dx), 3))
                   AS dx_family, coalesce(x.hai, false) AS hai,
               CAST(coalesce(s.medfee, f.fee_total, 0) AS DOUBLE) AS medfee, CAST(coalesce(s.fund, 0) AS DOUBLE) AS fund,
               CAST(coalesce(f.fee_total, 0) AS DOUBLE) AS fee_total, coalesce(f.n_lines, 0) AS n_lines,
               CAST(coalesce(f.drug_fee, 0) AS DOUBLE) AS drug_fee, CAST(coalesce(f.exam_fee, 0) AS DOUBLE) AS exam_fee,
               CAST(coalesce(f.lab_fee, 0) AS DOUBLE) AS lab_fee, CAST(coalesce(f.mcs_fee, 0) AS DOUBLE) AS mcs_fee,
               CAST(coalesce(f.trt_fee, 0) AS DOUBLE) AS trt_fee, CAST(coalesce(f.bed_fee, 0) AS DOUBLE) AS bed_fee,
               {", ".join(f"CAST(coalesce(f.{k}_fee, 0) AS DOUBLE) AS {k}_fee" for k in ITEM_FAMILIES)},
               coalesce(e.gend, p.gend) AS gend,
               date_diff('year', coalesce(e.brdy, p.brdy), e.begn_date)
                   - CASE WHEN strftime(e.begn_date, '%m%d') < strftime(coalesce(e.brdy, p.brdy), '%m%d') THEN 1 ELSE 0 END
                   AS age,
               p.idet, p.fmly_no, p.vlg_code, p.insutype, p.staff_medins = e.fixmedins_code AS staff_own
        FROM sc_enc0 e
        LEFT JOIN sc_fee f USING (mdtrt_id)
        LEFT JOIN sc_dx x USING (mdtrt_id)
        LEFT JOIN dxf ON dxf.main_dx = coalesce(e.dscg_maindiag_code, x.main_dx)
        LEFT JOIN setl s USING (mdtrt_id)
        LEFT JOIN sc_psn p USING (psn_no)""")
    con.execute("""CREATE OR REPLACE TABLE sc_flags (mdtrt_id VARCHAR, flag VARCHAR)""")
    enc, lines = con.execute("SELECT count(*), coalesce(sum(n_lines), 0) FROM sc_enc").fetchone()
    return {"encounters": int(enc), "fee_lines": int(lines)}


def drop_base(con) -> None:
    for name in BASE_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
