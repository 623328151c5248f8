-- Consumable priced above the institution's latest purchase price (on or before the fee date)
-- x allowed markup. vola_fee = (pric - allowed) x cnt.
WITH cons AS (
    SELECT l.* FROM fg_line AS l
    WHERE (l.med_chrgitm_type = '08' OR l.list_type = '301') AND l.cnt > 0
      AND coalesce(l.fixmedins_type, '1') <> '2'
),
last_purc AS (  -- the latest purchase of each consumable line (the lines drive the lookups)
    SELECT c.bkkp_sn, CAST(p.finl_trns_pric AS DOUBLE) AS purc_pric, CAST(p.purc_time AS DATE) AS purc_date
    FROM cons AS c
    JOIN medins_purc AS p ON p.fixmedins_code = c.fixmedins_code AND p.hilist_code = c.hilist_code
     AND CAST(p.purc_time AS DATE) <= c.fee_date
    WHERE p.purc_cnt > 0 AND p.finl_trns_pric > 0
    QUALIFY row_number() OVER (PARTITION BY c.bkkp_sn ORDER BY p.purc_time DESC, p.purc_id DESC) = 1
)
SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.bkkp_sn, c.hilist_code, c.hilist_name,
       c.bilg_dr_code, c.fee_date, CAST(c.pric AS DOUBLE) AS pric, lp.purc_pric, lp.purc_date,
       lp.purc_pric * $max_markup AS allowed_pric,
       (CAST(c.pric AS DOUBLE) - lp.purc_pric * $max_markup) * CAST(c.cnt AS DOUBLE) AS over_fee,
       (CAST(c.pric AS DOUBLE) - lp.purc_pric * $max_markup) * CAST(c.cnt AS DOUBLE) AS vola_fee
FROM fg_line AS c  -- the consumable lines again, by their line key (cons is read once)
JOIN last_purc AS lp ON lp.bkkp_sn = c.bkkp_sn
WHERE CAST(c.pric AS DOUBLE) > lp.purc_pric * $max_markup + $tolerance
