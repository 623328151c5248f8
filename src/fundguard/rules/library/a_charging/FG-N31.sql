-- More than max_cnt uses of an item by one person within period_days (across encounters and
-- institutions): each use counts the earlier uses of the last period_days days; later uses violate.
WITH day_item AS (  -- net quantity per encounter, day and item (refund lines net out)
    SELECT mdtrt_id, fee_date, hilist_code, sum(cnt) AS net_cnt
    FROM fg_line
    WHERE EXISTS (SELECT 1 FROM fg_kb AS k WHERE k.hilist_code = fg_line.hilist_code
                  AND k.rule_class = '医疗服务项目周期超频次')
    GROUP BY mdtrt_id, fee_date, hilist_code
),
use_line AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.fee_ocur_time, CAST(l.cnt AS DOUBLE) AS cnt, CAST(l.pric AS DOUBLE) AS pric,
           k.kp_id, k.max_cnt, k.period_days, k.eff_from, k.eff_to
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '医疗服务项目周期超频次'
    JOIN day_item AS d ON d.mdtrt_id = l.mdtrt_id AND d.fee_date = l.fee_date AND d.hilist_code = l.hilist_code
    WHERE l.cnt > 0 AND d.net_cnt > 0 AND k.period_days > 0 AND k.max_cnt IS NOT NULL
),
hit AS (
    SELECT u.mdtrt_id, u.psn_no, u.fixmedins_code, u.setl_id, u.bkkp_sn, u.hilist_code, u.hilist_name,
           u.bilg_dr_code, u.fee_date, u.kp_id, u.max_cnt, u.period_days, u.cnt, u.pric,
           sum(p.cnt) AS prior_cnt, min(p.fee_date) AS first_date
    FROM use_line AS u
    JOIN use_line AS p ON p.psn_no = u.psn_no AND p.kp_id = u.kp_id
     AND date_diff('day', p.fee_date, u.fee_date) BETWEEN 0 AND u.period_days - 1
     AND (p.fee_ocur_time < u.fee_ocur_time OR (p.fee_ocur_time = u.fee_ocur_time AND p.bkkp_sn < u.bkkp_sn))
    WHERE u.fee_date BETWEEN u.eff_from AND u.eff_to
    GROUP BY u.mdtrt_id, u.psn_no, u.fixmedins_code, u.setl_id, u.bkkp_sn, u.hilist_code, u.hilist_name,
             u.bilg_dr_code, u.fee_date, u.kp_id, u.max_cnt, u.period_days, u.cnt, u.pric
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code, kp_id,
       fee_date, max_cnt, period_days, prior_cnt, first_date,
       least(cnt, prior_cnt + cnt - max_cnt) AS line_excess,
       least(cnt, prior_cnt + cnt - max_cnt) * pric AS vola_fee
FROM hit
WHERE prior_cnt + cnt > max_cnt
QUALIFY row_number() OVER (PARTITION BY bkkp_sn ORDER BY least(cnt, prior_cnt + cnt - max_cnt) DESC, kp_id) = 1
