-- Outpatient / pharmacy drug lines whose days supplied (prd_days) exceed the prescription limit:
-- $chronic_days for 门诊慢特病 (med_type 14…), $outpatient_days for 普通门诊 11 and 药店购药 41.
-- The violating part is the share of the supply beyond the limit.
WITH lim AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.fee, l.med_type, l.prd_days,
           CASE WHEN l.med_type LIKE '14%' THEN $chronic_days ELSE $outpatient_days END AS limit_days,
           CASE WHEN l.med_type LIKE '14%' THEN '门诊慢特病'
                WHEN l.med_type = '41' THEN '定点药店购药' ELSE '普通门诊' END AS med_type_name
    FROM fg_line AS l
    WHERE (l.med_type LIKE '14%' OR l.med_type IN ('11', '41'))
      AND substr(l.hilist_code, 1, 1) IN ('X', 'Z')
      AND l.prd_days IS NOT NULL
      AND l.inscp > 0
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       hilist_code AS grp, fee_date, med_type, med_type_name, prd_days, limit_days,
       CAST(prd_days AS DOUBLE) - limit_days AS excess_days,
       CAST(fee AS DOUBLE) * (CAST(prd_days AS DOUBLE) - limit_days) / CAST(prd_days AS DOUBLE) AS vola_fee
FROM lim
WHERE CAST(prd_days AS DOUBLE) > limit_days
