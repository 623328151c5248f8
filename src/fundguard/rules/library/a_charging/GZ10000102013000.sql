-- Unbundling: two or more parts of one bundle charged on the same day of an encounter instead of the
-- bundle (which is not charged that day). vola_fee = (sum of parts - bundle price), shared over the parts.
WITH rel AS (
    SELECT code_a AS bundle_code, code_b AS part_code, min(name_a) AS bundle_name, max(value) AS bundle_value
    FROM kb_relations
    WHERE rel_type = 'bundle_part' AND code_a IS NOT NULL AND code_b IS NOT NULL AND code_a <> code_b
    GROUP BY code_a, code_b
),
bundle_val AS (
    SELECT bundle_code, min(bundle_name) AS bundle_name, max(bundle_value) AS bundle_value FROM rel GROUP BY bundle_code
),
day_item AS (  -- net quantity per encounter, day and item (refund lines net out), bundles and parts only
    SELECT mdtrt_id, fee_date, hilist_code, sum(cnt) AS net_cnt
    FROM fg_line
    WHERE hilist_code IN (SELECT part_code FROM rel UNION ALL SELECT bundle_code FROM rel)
    GROUP BY mdtrt_id, fee_date, hilist_code
),
part_line AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.fee, l.hosp_grade, r.bundle_code, d.net_cnt
    FROM fg_line AS l
    JOIN rel AS r ON r.part_code = l.hilist_code
    JOIN day_item AS d ON d.mdtrt_id = l.mdtrt_id AND d.fee_date = l.fee_date AND d.hilist_code = l.hilist_code
    WHERE l.cnt > 0 AND l.fee > 0 AND d.net_cnt > 0
),
grp_day AS (
    SELECT mdtrt_id, fee_date, bundle_code, max(hosp_grade) AS hosp_grade,
           count(DISTINCT hilist_code) AS n_parts, sum(fee) AS parts_fee, max(net_cnt) AS n_bundles
    FROM part_line GROUP BY mdtrt_id, fee_date, bundle_code
),
cat_cap AS (  -- catalogue cap of the bundle for the institution's grade, version valid on the day
    SELECT g.mdtrt_id, g.fee_date, g.bundle_code,
           CASE g.hosp_grade WHEN 3 THEN h.lv3_hosp_item_pric WHEN 2 THEN h.lv2_hosp_item_pric
                ELSE h.lv1_hosp_item_pric END AS cap
    FROM grp_day AS g
    JOIN hilist AS h ON h.hilist_code = g.bundle_code AND g.fee_date >= h.begndate
     AND g.fee_date <= coalesce(h.enddate, DATE '9999-12-31')
    QUALIFY row_number() OVER (PARTITION BY g.mdtrt_id, g.fee_date, g.bundle_code ORDER BY h.begndate DESC) = 1
),
judged AS (
    SELECT g.mdtrt_id, g.fee_date, g.bundle_code, v.bundle_name, g.n_parts, g.parts_fee,
           CAST(coalesce(v.bundle_value, c.cap) AS DOUBLE) * CAST(g.n_bundles AS DOUBLE) AS bundle_fee
    FROM grp_day AS g
    JOIN bundle_val AS v ON v.bundle_code = g.bundle_code
    LEFT JOIN cat_cap AS c ON c.mdtrt_id = g.mdtrt_id AND c.fee_date = g.fee_date AND c.bundle_code = g.bundle_code
    LEFT JOIN day_item AS b ON b.mdtrt_id = g.mdtrt_id AND b.fee_date = g.fee_date AND b.hilist_code = g.bundle_code
     AND b.net_cnt > 0
    WHERE g.n_parts >= $min_parts AND b.hilist_code IS NULL AND coalesce(v.bundle_value, c.cap) IS NOT NULL
)
SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.setl_id, p.bkkp_sn, p.hilist_code, p.hilist_name,
       p.bilg_dr_code, j.bundle_code || '|' || CAST(j.fee_date AS VARCHAR) AS grp, j.fee_date, j.bundle_code,
       coalesce(j.bundle_name, j.bundle_code) AS bundle_name, j.n_parts,
       CAST(j.parts_fee AS DOUBLE) AS parts_fee, j.bundle_fee,
       CAST(j.parts_fee AS DOUBLE) - j.bundle_fee AS excess_fee,
       CAST(p.fee AS DOUBLE) * (CAST(j.parts_fee AS DOUBLE) - j.bundle_fee) / CAST(j.parts_fee AS DOUBLE) AS vola_fee
FROM part_line AS p
JOIN judged AS j ON j.mdtrt_id = p.mdtrt_id AND j.fee_date = p.fee_date AND j.bundle_code = p.bundle_code
WHERE CAST(j.parts_fee AS DOUBLE) - j.bundle_fee > 0.005
-- a part line of several firing bundles counts once: the bundle with most parts charged
QUALIFY row_number() OVER (PARTITION BY p.bkkp_sn ORDER BY j.n_parts DESC, j.bundle_code) = 1
