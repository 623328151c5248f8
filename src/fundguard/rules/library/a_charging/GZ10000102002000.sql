-- Second and later operations of one discount group, same encounter and day, not discounted.
-- Main operation = highest price charged. vola_fee = (pric - discount x full price) x cnt.
WITH op AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.hosp_grade, l.pric_uplmt_amt,
           CAST(l.pric AS DOUBLE) AS pric, CAST(l.cnt AS DOUBLE) AS cnt,
           k.kp_id, k.group_name, coalesce(k.discount, $default_discount) AS discount
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '手术项目未按规定折价收费'
    WHERE l.med_chrgitm_type = '06' AND l.cnt > 0 AND k.group_name IS NOT NULL
      AND l.fee_date BETWEEN k.eff_from AND k.eff_to
),
cat_cap AS (
    SELECT o.bkkp_sn, o.group_name,
           CASE o.hosp_grade WHEN 3 THEN h.lv3_hosp_item_pric WHEN 2 THEN h.lv2_hosp_item_pric
                ELSE h.lv1_hosp_item_pric END AS cap
    FROM op AS o
    JOIN hilist AS h ON h.hilist_code = o.hilist_code AND o.fee_date >= h.begndate
     AND o.fee_date <= coalesce(h.enddate, DATE '9999-12-31')
    QUALIFY row_number() OVER (PARTITION BY o.bkkp_sn, o.group_name ORDER BY h.begndate DESC) = 1
),
priced AS (
    SELECT o.*,
           CASE WHEN o.pric_uplmt_amt > 0 THEN CAST(o.pric_uplmt_amt AS DOUBLE)
                WHEN c.cap > 0 THEN CAST(c.cap AS DOUBLE) ELSE o.pric END AS full_pric
    FROM op AS o LEFT JOIN cat_cap AS c ON c.bkkp_sn = o.bkkp_sn AND c.group_name = o.group_name
),
ranked AS (
    SELECT p.*,
           count(*) OVER (PARTITION BY p.mdtrt_id, p.fee_date, p.group_name) AS n_ops,
           row_number() OVER (PARTITION BY p.mdtrt_id, p.fee_date, p.group_name
                              ORDER BY p.pric DESC, p.full_pric DESC, p.bkkp_sn) AS rk
    FROM priced AS p
),
main_op AS (
    SELECT mdtrt_id, fee_date, group_name, hilist_code AS main_code, hilist_name AS main_name
    FROM ranked WHERE rk = 1
)
SELECT r.mdtrt_id, r.psn_no, r.fixmedins_code, r.setl_id, r.bkkp_sn, r.hilist_code, r.hilist_name,
       r.bilg_dr_code, r.kp_id, r.group_name || '|' || CAST(r.fee_date AS VARCHAR) AS grp, r.fee_date,
       r.group_name, r.discount, m.main_code, m.main_name, r.pric, r.full_pric,
       r.discount * r.full_pric AS allowed_pric,
       (r.pric - r.discount * r.full_pric) * r.cnt AS vola_fee
FROM ranked AS r
JOIN main_op AS m ON m.mdtrt_id = r.mdtrt_id AND m.fee_date = r.fee_date AND m.group_name = r.group_name
WHERE r.n_ops >= 2 AND r.rk > 1 AND r.pric > r.discount * r.full_pric + $tolerance
QUALIFY row_number() OVER (PARTITION BY r.bkkp_sn ORDER BY r.group_name, r.kp_id) = 1
