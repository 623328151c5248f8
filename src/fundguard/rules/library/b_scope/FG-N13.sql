-- An item of the rule's knowledge class ($kb_class: drug, service or consumable) limited to some visit types (k.med_types: ';'-separated med_type prefixes), charged to the
-- fund in an encounter whose med_type starts with none of them.
WITH cand AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.med_type, k.kp_id, k.med_types,
           ';' || replace(k.med_types, ' ', '') || ';' AS allowed
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
    WHERE coalesce(k.med_types, '') <> '' AND l.med_type IS NOT NULL
      AND l.fee_date BETWEEN k.eff_from AND k.eff_to
      AND l.inscp > 0  -- fully self-paid lines are not claimed
)
SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.bkkp_sn, c.hilist_code, c.hilist_name,
       c.bilg_dr_code, c.kp_id, c.fee_date, c.med_type, c.med_types,
       CASE c.med_types WHEN '21;22;23;24;28;52' THEN '住院' WHEN '11;14;51' THEN '门诊'
                        ELSE '指定就医方式' END AS allowed_name,
       CASE WHEN c.med_type LIKE '14%' THEN '门诊慢特病' WHEN c.med_type = '11' THEN '普通门诊'
            WHEN c.med_type = '21' THEN '普通住院' WHEN c.med_type = '22' THEN '外伤住院'
            WHEN c.med_type = '24' THEN '急诊转住院' WHEN c.med_type = '28' THEN '日间手术'
            WHEN c.med_type = '41' THEN '定点药店购药' WHEN c.med_type = '51' THEN '生育门诊'
            WHEN c.med_type = '52' THEN '生育住院' WHEN c.med_type = '9901' THEN '互联网门诊'
            ELSE '其他' END AS med_type_name
FROM cand AS c
-- allowed when a listed prefix equals the first 1..6 characters of med_type, or the whole code
WHERE c.allowed NOT LIKE '%;' || c.med_type || ';%'
  AND c.allowed NOT LIKE '%;' || substr(c.med_type, 1, 1) || ';%'
  AND c.allowed NOT LIKE '%;' || substr(c.med_type, 1, 2) || ';%'
  AND c.allowed NOT LIKE '%;' || substr(c.med_type, 1, 3) || ';%'
  AND c.allowed NOT LIKE '%;' || substr(c.med_type, 1, 4) || ';%'
  AND c.allowed NOT LIKE '%;' || substr(c.med_type, 1, 5) || ';%'
  AND c.allowed NOT LIKE '%;' || substr(c.med_type, 1, 6) || ';%'
