-- Inpatient fee lines dated before admission or after discharge (beyond grace_days).
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, l.fee_date, l.begn_date,
       CASE WHEN l.endtime IS NULL THEN '未出院' ELSE CAST(l.end_date AS VARCHAR) END AS end_date,
       CASE WHEN l.fee_date < l.begn_date THEN '早于入院日期' ELSE '晚于出院日期' END AS side,
       CASE WHEN l.fee_date < l.begn_date THEN '入院前' ELSE '出院后' END AS grp
FROM fg_line AS l
WHERE (l.med_type LIKE '2%' OR l.med_type = '52') AND l.fee > 0 AND l.end_date >= l.begn_date
  AND (date_diff('day', l.fee_date, l.begn_date) > $grace_days
       OR (l.endtime IS NOT NULL AND date_diff('day', l.end_date, l.fee_date) > $grace_days))
