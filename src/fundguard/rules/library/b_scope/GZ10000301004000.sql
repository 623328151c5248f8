-- A drug or service item (per $kb_class) limited to one gender, charged for a patient of the other gender.
-- $claimed_only: only lines with an in-scope amount (fully self-paid lines are not claimed).
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, k.kp_id, l.gend, l.fee_date,
       CASE k.gend WHEN '1' THEN '男性' ELSE '女性' END AS limit_gend_name
FROM fg_line AS l
JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
WHERE k.gend IN ('1', '2') AND l.gend IN ('1', '2') AND l.gend <> k.gend
  AND l.fee_date BETWEEN k.eff_from AND k.eff_to
  AND (NOT $claimed_only OR l.inscp > 0)
