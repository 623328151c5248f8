-- 挂床住院: inpatient stays of at least $min_days days where the share of stay days without any
-- treatment, drug, test, material or operation line is above $idle_share.
-- Stay days = admission day .. the day before discharge (los_days), as bed days are billed.
WITH ipt AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           e.begn_date, e.end_date, e.los_days
    FROM fg_enc AS e
    JOIN fg_enc_amt AS a ON a.mdtrt_id = e.mdtrt_id
    WHERE (e.med_type LIKE '2%' OR e.med_type = '52') AND e.los_days >= $min_days AND a.n_lines > 0
),
treat AS (  -- stay days with a line other than bed/consultation/nursing/diet-other
    SELECT i.mdtrt_id, count(DISTINCT l.fee_date) AS treat_days
    FROM ipt AS i
    JOIN fg_line AS l ON l.mdtrt_id = i.mdtrt_id
    WHERE l.fee_date >= i.begn_date AND l.fee_date < i.end_date
      AND NOT (';' || $idle_types || ';' LIKE '%;' || coalesce(l.med_chrgitm_type, '#') || ';%')
    GROUP BY i.mdtrt_id
),
stay AS (
    SELECT i.mdtrt_id, i.psn_no, i.fixmedins_code, i.medins_name, i.begn_date, i.end_date,
           i.los_days AS stay_days, coalesce(t.treat_days, 0) AS treat_days,
           i.los_days - coalesce(t.treat_days, 0) AS idle_days
    FROM ipt AS i
    LEFT JOIN treat AS t ON t.mdtrt_id = i.mdtrt_id
)
SELECT s.mdtrt_id, s.psn_no, s.fixmedins_code, s.medins_name, s.begn_date, s.end_date, s.stay_days,
       s.treat_days, s.idle_days,
       round(100 * CAST(s.idle_days AS DOUBLE) / CAST(s.stay_days AS DOUBLE), 1) AS idle_pct
FROM stay AS s
WHERE s.idle_days > $idle_share * s.stay_days
