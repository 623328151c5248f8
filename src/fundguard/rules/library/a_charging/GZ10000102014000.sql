-- Count above the cap per unit (day of an encounter, encounter, person-month, person-year). The excess
-- is attributed to the latest positive lines. vola_fee = excess count on the line x pric.
WITH lim AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.fee_ocur_time, CAST(l.cnt AS DOUBLE) AS cnt, CAST(l.pric AS DOUBLE) AS pric,
           k.kp_id, k.max_cnt,
           CASE WHEN coalesce(k.period, '日') IN ('日', '天', '小时') THEN '日'
                WHEN k.period IN ('次住院', '次就诊') THEN '次就诊'
                WHEN k.period IN ('月', '年') THEN k.period END AS period_name
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '医疗服务项目限定频次'
    WHERE k.max_cnt IS NOT NULL AND l.fee_date BETWEEN k.eff_from AND k.eff_to
),
unit AS (
    SELECT m.*,
           CASE m.period_name WHEN '日' THEN CAST(m.fee_date AS VARCHAR) WHEN '次就诊' THEN '本次就诊'
                WHEN '月' THEN CAST(year(m.fee_date) * 100 + month(m.fee_date) AS VARCHAR)
                ELSE CAST(year(m.fee_date) AS VARCHAR) END AS period_label,
           CASE WHEN m.period_name IN ('日', '次就诊') THEN m.mdtrt_id ELSE m.psn_no END AS owner
    FROM lim AS m WHERE m.period_name IS NOT NULL
),
tot AS (
    SELECT kp_id, owner, period_label, sum(cnt) AS total_cnt FROM unit GROUP BY kp_id, owner, period_label
),
pos AS (  -- positive lines, cumulative count from the latest line backwards
    SELECT u.*, t.total_cnt,
           sum(u.cnt) OVER (PARTITION BY u.kp_id, u.owner, u.period_label
                            ORDER BY u.fee_ocur_time DESC, u.bkkp_sn DESC
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS later_cnt
    FROM unit AS u
    JOIN tot AS t ON t.kp_id = u.kp_id AND t.owner = u.owner AND t.period_label = u.period_label
    WHERE u.cnt > 0 AND t.total_cnt > u.max_cnt
),
hit AS (
    SELECT p.*, least(p.cnt, p.total_cnt - p.max_cnt - (p.later_cnt - p.cnt)) AS line_excess
    FROM pos AS p
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code, kp_id,
       period_label AS grp, fee_date, period_name, period_label, max_cnt, total_cnt,
       total_cnt - max_cnt AS excess_cnt, line_excess, line_excess * pric AS vola_fee
FROM hit
WHERE line_excess > 0
QUALIFY row_number() OVER (PARTITION BY bkkp_sn ORDER BY line_excess DESC, kp_id) = 1
