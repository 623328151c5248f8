-- Consumable priced above the institution's latest purchase price (on or before the fee date)
-- x allowed markup. vola_fee = (pric - allowed) x cnt.
WITH cons AS NOT MATERIALIZED (  -- read twice (lookup keys, then the lines): scanning beats materialising
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.pric, l.cnt
    FROM fg_line AS l
    WHERE (l.med_chrgitm_type = '08' OR l.list_type = '301') AND l.cnt > 0
      AND coalesce(l.fixmedins_type, '1') <> '2'
),
last_purc AS (  -- the latest purchase on or before each day a consumable was charged (per day, not per line)
    SELECT k.fixmedins_code, k.hilist_code, k.fee_date,
           CAST(p.finl_trns_pric AS DOUBLE) AS purc_pric, CAST(p.purc_time AS DATE) AS purc_date
    FROM (SELECT DISTINCT fixmedins_code, hilist_code, fee_date FROM cons) AS k
    JOIN medins_purc AS p ON p.fixmedins_code = k.fixmedins_code AND p.hilist_code = k.hilist_code
     AND CAST(p.purc_time AS DATE) <= k.fee_date
    WHERE p.purc_cnt > 0 AND p.finl_trns_pric > 0
    QUALIFY row_number() OVER (PARTITION BY k.fixmedins_code, k.hilist_code, k.fee_date
                               ORDER BY p.purc_time DESC, p.purc_id DESC) = 1
)
SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.bkkp_sn, c.hilist_code, c.hilist_name,
       c.bilg_dr_code, c.fee_date, CAST(c.pric AS DOUBLE) AS pric, lp.purc_pric, lp.purc_date,
       lp.purc_pric * $max_markup AS allowed_pric,
       (CAST(c.pric AS DOUBLE) - lp.purc_pric * $max_markup) * CAST(c.cnt AS DOUBLE) AS over_fee,
       (CAST(c.pric AS DOUBLE) - lp.purc_pric * $max_markup) * CAST(c.cnt AS DOUBLE) AS vola_fee
FROM cons AS c
JOIN last_purc AS lp ON lp.fixmedins_code = c.fixmedins_code AND lp.hilist_code = c.hilist_code
 AND lp.fee_date = c.fee_date
WHERE CAST(c.pric AS DOUBLE) > lp.purc_pric * $max_markup + $tolerance
