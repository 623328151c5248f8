-- Lines paid by the fund whose code has no catalogue version valid on the fee date (only when the
-- catalogue holds items of the line's category). The catalogue is looked up by the lines' codes and
-- categories, never grouped as a whole (a national catalogue holds 10⁵ codes).
WITH paid AS (  -- the columns used only: SQLite materialises this CTE, every column of each line included
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date,
           coalesce(l.list_type, CASE l.med_chrgitm_type WHEN '08' THEN '301' WHEN '09' THEN '101'
                                      WHEN '11' THEN '101' WHEN '10' THEN '102' ELSE '201' END) AS cat_type
    FROM fg_line AS l WHERE l.inscp > 0
),
miss AS (  -- no catalogue version valid on the fee date (the category test below: on these few lines only)
    SELECT p.* FROM paid AS p
    LEFT JOIN hilist AS v ON v.hilist_code = p.hilist_code AND p.fee_date >= v.begndate
     AND p.fee_date <= coalesce(v.enddate, DATE '9999-12-31')
    WHERE v.hilist_code IS NULL
),
known AS (  -- codes of those lines that the catalogue holds in some other version
    SELECT DISTINCT hilist_code FROM hilist WHERE hilist_code IN (SELECT hilist_code FROM miss)
)
SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.setl_id, p.bkkp_sn, p.hilist_code, p.hilist_name,
       p.bilg_dr_code, p.fee_date,
       CASE WHEN k.hilist_code IS NULL THEN '不在医保目录中'
            ELSE '在费用日期不属于有效的医保目录版本' END AS reason,
       CASE WHEN k.hilist_code IS NULL THEN '目录外' ELSE '失效或未生效' END AS grp
FROM miss AS p
LEFT JOIN known AS k ON k.hilist_code = p.hilist_code
WHERE EXISTS (SELECT 1 FROM hilist AS c WHERE c.list_type = p.cat_type)  -- a category the catalogue holds
