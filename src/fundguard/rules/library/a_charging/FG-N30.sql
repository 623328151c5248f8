-- A consumable already included in a service item's price, charged separately in the same
-- encounter on the day the service is charged (any day of the encounter when same_day is false).
WITH rel AS (
    SELECT DISTINCT code_a, code_b FROM kb_relations
    WHERE rel_type = 'service_consumable' AND code_a IS NOT NULL AND code_b IS NOT NULL AND code_a <> code_b
),
day_item AS (  -- net quantity per encounter, day and item (refund lines net out)
    SELECT mdtrt_id, fee_date, hilist_code, min(hilist_name) AS hilist_name, sum(cnt) AS net_cnt
    FROM fg_line
    WHERE hilist_code IN (SELECT code_a FROM rel UNION ALL SELECT code_b FROM rel)
    GROUP BY mdtrt_id, fee_date, hilist_code
),
hit AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, s.hilist_code AS svc_code, s.hilist_name AS svc_name, s.fee_date AS svc_date
    FROM fg_line AS l
    JOIN rel AS r ON r.code_b = l.hilist_code
    JOIN day_item AS c ON c.mdtrt_id = l.mdtrt_id AND c.fee_date = l.fee_date AND c.hilist_code = l.hilist_code
    JOIN day_item AS s ON s.mdtrt_id = l.mdtrt_id AND s.hilist_code = r.code_a
     AND (s.fee_date = l.fee_date OR NOT $same_day)
    WHERE l.cnt > 0 AND c.net_cnt > 0 AND s.net_cnt > 0
)
SELECT h.mdtrt_id, h.psn_no, h.fixmedins_code, h.setl_id, h.bkkp_sn, h.hilist_code, h.hilist_name,
       h.bilg_dr_code, CAST(h.fee_date AS VARCHAR) AS grp, h.fee_date, h.svc_code, h.svc_name, h.svc_date
FROM hit AS h
-- one row per consumable line: prefer a service on the same day
QUALIFY row_number() OVER (PARTITION BY h.bkkp_sn
                           ORDER BY CASE WHEN h.svc_date = h.fee_date THEN 0 ELSE 1 END, h.svc_code, h.svc_date) = 1
