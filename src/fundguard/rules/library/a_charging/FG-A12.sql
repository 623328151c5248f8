-- Drug/treatment lines of encounters with orders: no matching order (whole line), or charged
-- quantity above the ordered quantity (excess on the latest matched lines, x pric).
WITH ord_enc AS (
    SELECT DISTINCT mdtrt_id FROM drord_d
),
ln AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_ocur_time, l.rx_drord_no, CAST(l.cnt AS DOUBLE) AS cnt, CAST(l.pric AS DOUBLE) AS pric
    FROM fg_line AS l
    JOIN ord_enc AS e ON e.mdtrt_id = l.mdtrt_id
    WHERE (';' || $item_types || ';') LIKE ('%;' || l.med_chrgitm_type || ';%')
),
matched AS (
    SELECT DISTINCT n.bkkp_sn
    FROM ln AS n
    JOIN drord_d AS d ON d.mdtrt_id = n.mdtrt_id AND d.hilist_code = n.hilist_code
     AND (n.rx_drord_no IS NULL OR d.rx_drord_no IS NULL OR d.rx_drord_no = n.rx_drord_no)
),
flag AS (
    SELECT n.*, CASE WHEN m.bkkp_sn IS NULL THEN 0 ELSE 1 END AS has_order FROM ln AS n
    LEFT JOIN matched AS m ON m.bkkp_sn = n.bkkp_sn
),
ordered AS (
    SELECT mdtrt_id, hilist_code, sum(CAST(cnt AS DOUBLE)) AS ordered_cnt FROM drord_d GROUP BY mdtrt_id, hilist_code
),
charged AS (  -- all lines of the item except unmatched positive lines (those are reported whole)
    SELECT mdtrt_id, hilist_code, sum(cnt) AS charged_cnt FROM flag
    WHERE has_order = 1 OR cnt <= 0 GROUP BY mdtrt_id, hilist_code
),
no_order AS (
    SELECT f.mdtrt_id, f.psn_no, f.fixmedins_code, f.setl_id, f.bkkp_sn, f.hilist_code, f.hilist_name,
           f.bilg_dr_code, '无对应医嘱' AS reason, f.cnt AS charged_cnt, CAST(0 AS DOUBLE) AS ordered_cnt,
           f.cnt * f.pric AS vola_fee
    FROM flag AS f WHERE f.has_order = 0 AND f.cnt > 0
),
pos AS (
    SELECT f.*, c.charged_cnt, o.ordered_cnt,
           sum(f.cnt) OVER (PARTITION BY f.mdtrt_id, f.hilist_code ORDER BY f.fee_ocur_time DESC, f.bkkp_sn DESC
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS later_cnt
    FROM flag AS f
    JOIN charged AS c ON c.mdtrt_id = f.mdtrt_id AND c.hilist_code = f.hilist_code
    JOIN ordered AS o ON o.mdtrt_id = f.mdtrt_id AND o.hilist_code = f.hilist_code
    WHERE f.has_order = 1 AND f.cnt > 0 AND c.charged_cnt > o.ordered_cnt + $qty_tolerance
),
over_qty AS (
    SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.setl_id, p.bkkp_sn, p.hilist_code, p.hilist_name,
           p.bilg_dr_code, '收费数量超过医嘱数量' AS reason, p.charged_cnt, p.ordered_cnt,
           least(p.cnt, p.charged_cnt - p.ordered_cnt - $qty_tolerance - (p.later_cnt - p.cnt)) * p.pric AS vola_fee
    FROM pos AS p
    WHERE p.charged_cnt - p.ordered_cnt - $qty_tolerance - (p.later_cnt - p.cnt) > 0
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       reason AS grp, reason, charged_cnt, ordered_cnt, vola_fee
FROM no_order
UNION ALL
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       reason AS grp, reason, charged_cnt, ordered_cnt, vola_fee
FROM over_qty
