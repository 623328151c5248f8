-- An item of the rule's knowledge class ($kb_class: drug, service or consumable) limited to newborns, charged to the fund for a patient older than age_max_days (days) on the fee date.
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, k.kp_id, l.fee_date, l.brdy, l.age_days, k.age_max_days
FROM fg_line AS l
JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
WHERE k.age_max_days IS NOT NULL AND l.age_days > k.age_max_days
  AND l.fee_date BETWEEN k.eff_from AND k.eff_to
  AND l.inscp > 0  -- fully self-paid lines are not claimed
