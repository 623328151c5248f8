-- An item of the rule's knowledge class ($kb_class: drug, service or consumable) limited to institutions of level min_hosp_grade or above, charged to the fund at a lower
-- level (hosp_grade 3/2/1; 0 = 无等级 or a retail pharmacy, below every level).
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, k.kp_id, l.fee_date, l.hosp_lv, l.hosp_grade, k.min_hosp_grade,
       CASE k.min_hosp_grade WHEN 3 THEN '三级' WHEN 2 THEN '二级' ELSE '一级' END AS limit_grade_name,
       CASE WHEN l.fixmedins_type = '2' OR l.med_type LIKE '41%' THEN '定点零售药店'
            WHEN l.hosp_grade = 3 THEN '三级' WHEN l.hosp_grade = 2 THEN '二级' WHEN l.hosp_grade = 1 THEN '一级'
            ELSE '无等级' END
         || CASE WHEN coalesce(l.hosp_lv, '') <> '' THEN '（等级代码 ' || l.hosp_lv || '）' ELSE '' END AS grade_name
FROM fg_line AS l
JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
WHERE k.min_hosp_grade IS NOT NULL AND l.hosp_grade < k.min_hosp_grade
  -- an institution without a level code is not judged, a retail pharmacy is
  AND (coalesce(l.hosp_lv, '') <> '' OR l.fixmedins_type = '2' OR l.med_type LIKE '41%')
  AND l.fee_date BETWEEN k.eff_from AND k.eff_to
  AND l.inscp > 0  -- fully self-paid lines are not claimed
