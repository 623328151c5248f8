-- Lines paid by the fund whose code has no catalogue version valid on the fee date (only when the
-- catalogue holds items of the line's category).
WITH cat AS (
    SELECT DISTINCT list_type FROM hilist WHERE list_type IS NOT NULL
),
paid AS (
    SELECT l.*,
           coalesce(l.list_type, CASE l.med_chrgitm_type WHEN '08' THEN '301' WHEN '09' THEN '101'
                                      WHEN '11' THEN '101' WHEN '10' THEN '102' ELSE '201' END) AS cat_type
    FROM fg_line AS l WHERE l.inscp > 0
),
known AS (
    SELECT hilist_code, min(begndate) AS first_begn FROM hilist GROUP BY hilist_code
)
SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.setl_id, p.bkkp_sn, p.hilist_code, p.hilist_name,
       p.bilg_dr_code, p.fee_date,
       CASE WHEN k.hilist_code IS NULL THEN '不在医保目录中'
            ELSE '在费用日期不属于有效的医保目录版本' END AS reason,
       CASE WHEN k.hilist_code IS NULL THEN '目录外' ELSE '失效或未生效' END AS grp
FROM paid AS p
JOIN cat AS c ON c.list_type = p.cat_type
LEFT JOIN hilist AS v ON v.hilist_code = p.hilist_code AND p.fee_date >= v.begndate
 AND p.fee_date <= coalesce(v.enddate, DATE '9999-12-31')
LEFT JOIN known AS k ON k.hilist_code = p.hilist_code
WHERE v.hilist_code IS NULL
