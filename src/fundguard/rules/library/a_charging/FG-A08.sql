-- Bed days or daily nursing charged above the days of the stay. The excess is attributed to the
-- latest positive lines. vola_fee = excess count on the line x pric.
WITH stay AS (
    SELECT mdtrt_id, begn_date, end_date,
           CASE WHEN $count_discharge_day THEN los_days + 1 ELSE greatest(los_days, 1) END AS allowed_days
    FROM fg_enc
    WHERE (med_type LIKE '2%' OR med_type = '52') AND endtime IS NOT NULL AND end_date >= begn_date
),
kinded AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_ocur_time, CAST(l.cnt AS DOUBLE) AS cnt, CAST(l.pric AS DOUBLE) AS pric,
           CASE WHEN l.med_chrgitm_type = '01' AND l.hilist_code LIKE ($bed_code_prefix || '%') THEN '床位费'
                WHEN l.med_chrgitm_type = '07'
                     AND (';' || $nursing_codes || ';') LIKE ('%;' || l.hilist_code || ';%') THEN '护理费'
           END AS kind
    FROM fg_line AS l
    WHERE l.med_chrgitm_type IN ('01', '07') AND l.mdtrt_id IN (SELECT mdtrt_id FROM stay)
),
tot AS (
    SELECT k.mdtrt_id, k.kind, sum(k.cnt) AS total_cnt FROM kinded AS k
    WHERE k.kind IS NOT NULL GROUP BY k.mdtrt_id, k.kind
),
pos AS (  -- positive lines, cumulative count from the latest line backwards
    SELECT k.*, t.total_cnt, s.allowed_days, s.begn_date, s.end_date,
           sum(k.cnt) OVER (PARTITION BY k.mdtrt_id, k.kind ORDER BY k.fee_ocur_time DESC, k.bkkp_sn DESC
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS later_cnt
    FROM kinded AS k
    JOIN tot AS t ON t.mdtrt_id = k.mdtrt_id AND t.kind = k.kind
    JOIN stay AS s ON s.mdtrt_id = k.mdtrt_id
    WHERE k.cnt > 0 AND t.total_cnt > s.allowed_days
),
hit AS (
    SELECT p.*, least(p.cnt, p.total_cnt - p.allowed_days - (p.later_cnt - p.cnt)) AS line_excess FROM pos AS p
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       kind AS grp, kind, begn_date, end_date, allowed_days, total_cnt, total_cnt - allowed_days AS excess_cnt,
       line_excess, line_excess * pric AS vola_fee
FROM hit
WHERE line_excess > 0
