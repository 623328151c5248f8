-- Herbs excluded from fund payment both alone and in compound prescriptions, paid by the fund.
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, k.kp_id, l.fee_date
FROM fg_line AS l
JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '中药饮片单复方均不予支付'
WHERE l.fee_date BETWEEN k.eff_from AND k.eff_to
  AND (l.line_fund > 0 OR l.inscp > 0)
