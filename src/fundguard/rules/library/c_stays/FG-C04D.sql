-- 死亡后就医: fee lines dated more than $grace_days days after the person's date of death
-- (earliest die_date of the person from psn_info or any encounter record).
WITH death AS (
    SELECT e.psn_no, min(e.die_date) AS die_date
    FROM fg_enc AS e
    WHERE e.die_date IS NOT NULL
    GROUP BY e.psn_no
)
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name, l.bilg_dr_code,
       l.fee_date, d.die_date, date_diff('day', d.die_date, l.fee_date) AS days_after,
       min(l.fee_date) OVER (PARTITION BY l.mdtrt_id) AS first_fee_date
FROM fg_line AS l
JOIN fg_enc AS e ON e.mdtrt_id = l.mdtrt_id
JOIN death AS d ON d.psn_no = e.psn_no
WHERE date_diff('day', d.die_date, l.fee_date) > $grace_days
