-- Drugs internet care may not prescribe (narcotic/psychotropic …), paid in an internet encounter:
-- med_type 9901 (互联网门诊) or an institution of medins_type 41 (互联网医院).
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, k.kp_id, l.fee_date, l.med_type,
       CASE WHEN l.med_type = '9901' THEN '互联网门诊（医疗类别 9901）' ELSE '互联网医院就诊' END AS channel
FROM fg_line AS l
JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '超互联网医院药品支付范围'
WHERE l.fee_date BETWEEN k.eff_from AND k.eff_to
  AND (l.med_type = '9901' OR l.medins_type = '41')
  AND l.inscp > 0
