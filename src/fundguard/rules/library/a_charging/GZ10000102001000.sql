-- Service item priced above its cap: the lower of the line's pric_uplmt_amt and the catalogue cap for the
-- institution's grade valid on the fee date (either alone when the other is missing). vola_fee = (pric - cap) x cnt.
WITH charged AS (  -- the service items charged (a few hundred codes, whatever the size of the catalogue)
    SELECT DISTINCT l.hilist_code FROM fg_line AS l
    WHERE l.cnt > 0
      AND coalesce(l.list_type, '201') = '201'
      AND coalesce(l.med_chrgitm_type, '') NOT IN ('08', '09', '10', '11')
),
code_floor AS (  -- an item's lowest positive catalogue cap, any version and grade
    SELECT h.hilist_code,
           min(least(CASE WHEN h.lv3_hosp_item_pric > 0 THEN h.lv3_hosp_item_pric END,
                     CASE WHEN h.lv2_hosp_item_pric > 0 THEN h.lv2_hosp_item_pric END,
                     CASE WHEN h.lv1_hosp_item_pric > 0 THEN h.lv1_hosp_item_pric END)) AS floor_cap
    FROM charged AS d JOIN hilist AS h ON h.hilist_code = d.hilist_code
    GROUP BY h.hilist_code
),
svc AS (  -- a line's cap is its uploaded cap or one of its item's catalogue caps, so a line priced within
          -- the lower of its uploaded cap and its item's floor cap cannot exceed its cap: those are skipped early
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.pric, l.cnt, l.pric_uplmt_amt, l.hosp_lv, l.hosp_grade  -- used only:
    FROM fg_line AS l                                         -- SQLite materialises this CTE with its columns
    LEFT JOIN code_floor AS f ON f.hilist_code = l.hilist_code
    WHERE l.cnt > 0
      AND coalesce(l.list_type, '201') = '201'
      AND coalesce(l.med_chrgitm_type, '') NOT IN ('08', '09', '10', '11')
      AND ((l.pric_uplmt_amt > 0 AND CAST(l.pric AS DOUBLE) > CAST(l.pric_uplmt_amt AS DOUBLE) + $tolerance)
           OR CAST(l.pric AS DOUBLE) > CAST(f.floor_cap AS DOUBLE) + $tolerance)
),
cat_cap AS (  -- per item, day and grade (far fewer than lines): the catalogue version valid on the day
    SELECT k.hilist_code, k.fee_date, k.hosp_grade,
           CASE k.hosp_grade WHEN 3 THEN h.lv3_hosp_item_pric WHEN 2 THEN h.lv2_hosp_item_pric
                ELSE h.lv1_hosp_item_pric END AS cap
    FROM (SELECT DISTINCT hilist_code, fee_date, hosp_grade FROM svc) AS k
    JOIN hilist AS h ON h.hilist_code = k.hilist_code AND k.fee_date >= h.begndate
     AND k.fee_date <= coalesce(h.enddate, DATE '9999-12-31')
    QUALIFY row_number() OVER (PARTITION BY k.hilist_code, k.fee_date, k.hosp_grade ORDER BY h.begndate DESC) = 1
),
capped AS (  -- the lower of the uploaded cap and the catalogue cap: an uploaded cap never raises the official one
             -- (the catalogue cap of an institution without a known level is only a fallback)
    SELECT s.*,
           CASE WHEN s.pric_uplmt_amt > 0 AND (c.cap IS NULL OR c.cap <= 0 OR s.hosp_lv IS NULL OR s.pric_uplmt_amt <= c.cap)
                     THEN CAST(s.pric_uplmt_amt AS DOUBLE)
                WHEN c.cap > 0 THEN CAST(c.cap AS DOUBLE) END AS cap_pric,
           CASE WHEN s.pric_uplmt_amt > 0 AND (c.cap IS NULL OR c.cap <= 0 OR s.hosp_lv IS NULL OR s.pric_uplmt_amt <= c.cap)
                     THEN '定价上限' ELSE '医保目录限价' END AS cap_source
    FROM svc AS s
    LEFT JOIN cat_cap AS c ON c.hilist_code = s.hilist_code AND c.fee_date = s.fee_date
     AND c.hosp_grade IS NOT DISTINCT FROM s.hosp_grade
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       fee_date, CAST(pric AS DOUBLE) AS pric, CAST(cnt AS DOUBLE) AS cnt, cap_pric, cap_source,
       (CAST(pric AS DOUBLE) - cap_pric) * CAST(cnt AS DOUBLE) AS over_fee,
       (CAST(pric AS DOUBLE) - cap_pric) * CAST(cnt AS DOUBLE) AS vola_fee
FROM capped
WHERE cap_pric IS NOT NULL AND CAST(pric AS DOUBLE) > cap_pric + $tolerance
