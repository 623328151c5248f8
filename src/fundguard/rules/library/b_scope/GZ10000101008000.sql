-- Lines (drug or service item, per $kb_class) under an indication point (mapped ICD-10 prefixes) in an encounter none of whose
-- diagnoses starts with one of the prefixes (no diagnosis at all also fires). Points without
-- prefixes (free text not mapped) are not evaluated. Codes are compared upper-case without dots.
WITH hit AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, k.kp_id, k.icd_prefixes
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
    WHERE l.fee_date BETWEEN k.eff_from AND k.eff_to
      AND k.icd_prefixes IS NOT NULL AND trim(k.icd_prefixes) <> ''
      AND l.inscp > 0
),
pfx_raw AS (
    SELECT p.kp_id, unnest(string_split(p.icd_prefixes, ';')) AS pfx
    FROM (SELECT DISTINCT kp_id, icd_prefixes FROM hit) AS p
),
pfx AS (
    SELECT DISTINCT kp_id, replace(upper(trim(pfx)), '.', '') AS pfx FROM pfx_raw WHERE trim(pfx) <> ''
),
matched AS (
    SELECT DISTINCT h.mdtrt_id, h.kp_id
    FROM (SELECT DISTINCT mdtrt_id, kp_id FROM hit) AS h
    JOIN fg_diag AS d ON d.mdtrt_id = h.mdtrt_id
    JOIN pfx AS p ON p.kp_id = h.kp_id
    WHERE starts_with(replace(upper(trim(d.diag_code)), '.', ''), p.pfx)
),
dx AS (
    SELECT mdtrt_id, count(DISTINCT diag_code) AS diag_cnt,
           min(CASE WHEN maindiag_flag = '1' THEN diag_code END) AS main_code, min(diag_code) AS any_code
    FROM fg_diag WHERE diag_code IS NOT NULL AND mdtrt_id IN (SELECT mdtrt_id FROM hit) GROUP BY mdtrt_id
)
SELECT h.mdtrt_id, h.psn_no, h.fixmedins_code, h.setl_id, h.bkkp_sn, h.hilist_code, h.hilist_name,
       h.bilg_dr_code, h.kp_id, h.fee_date, h.icd_prefixes,
       coalesce(dx.diag_cnt, 0) AS diag_cnt,
       CASE WHEN dx.mdtrt_id IS NULL THEN '本次就诊无任何诊断'
            WHEN dx.diag_cnt = 1 THEN '本次就诊诊断 ' || dx.any_code || ' 不在限定范围内'
            ELSE '本次就诊诊断（主诊断 ' || coalesce(dx.main_code, dx.any_code) || ' 等 '
                 || CAST(dx.diag_cnt AS VARCHAR) || ' 个）均不在限定范围内' END AS diag_text
FROM hit AS h
LEFT JOIN matched AS m ON m.mdtrt_id = h.mdtrt_id AND m.kp_id = h.kp_id
LEFT JOIN dx ON dx.mdtrt_id = h.mdtrt_id
WHERE m.mdtrt_id IS NULL
