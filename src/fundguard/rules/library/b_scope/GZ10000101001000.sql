-- An item of the rule's knowledge class ($kb_class: drug, service or consumable) payable only by work-injury or
-- maternity insurance, claimed from the basic medical-insurance fund by a person whose insurance type is not an
-- allowed one (k.insutypes, ';'-separated; '' = the basic fund never pays: the 工伤 classes).
-- A maternity encounter (med_type 51/52) of a non-resident counts as 510 生育保险 (only where 510 is allowed).
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
       l.bilg_dr_code, k.kp_id, l.fee_date, l.insutype, l.med_type,
       CASE l.insutype WHEN '310' THEN '职工基本医疗保险' WHEN '320' THEN '公务员医疗补助'
                       WHEN '330' THEN '大额医疗费用补助' WHEN '340' THEN '离休人员医疗保障'
                       WHEN '390' THEN '城乡居民基本医疗保险' WHEN '391' THEN '城乡居民大病医疗保险'
                       WHEN '510' THEN '生育保险' ELSE coalesce(l.insutype, '未知') END AS insutype_name,
       CASE WHEN l.med_type LIKE '14%' THEN '门诊慢特病' WHEN l.med_type = '11' THEN '普通门诊'
            WHEN l.med_type = '21' THEN '普通住院' WHEN l.med_type = '22' THEN '外伤住院'
            WHEN l.med_type = '24' THEN '急诊转住院' WHEN l.med_type = '28' THEN '日间手术'
            WHEN l.med_type = '41' THEN '定点药店购药' WHEN l.med_type = '51' THEN '生育门诊'
            WHEN l.med_type = '52' THEN '生育住院' WHEN l.med_type = '9901' THEN '互联网门诊'
            ELSE coalesce(l.med_type, '未知') END AS med_type_name
FROM fg_line AS l
JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
LEFT JOIN setl_d AS sd ON sd.setl_id = l.setl_id
WHERE k.insutypes IS NOT NULL
  AND l.fee_date BETWEEN k.eff_from AND k.eff_to
  -- claimed: the fund paid a share after settlement, or an in-scope amount before settlement (事前/事中)
  AND l.inscp > 0 AND (l.line_fund > 0 OR sd.setl_id IS NULL)
  AND (';' || k.insutypes || ';') NOT LIKE ('%;' || coalesce(l.insutype, '-') || ';%')
  -- a maternity encounter (51/52) of an employee counts as 生育保险 (生育保险与职工医保合并实施, settled as 310);
  -- residents (390/391) have no maternity insurance: their deliveries are paid by the residents' fund
  AND NOT ((';' || k.insutypes || ';') LIKE '%;510;%'
           AND (coalesce(l.med_type, '') LIKE '51%' OR coalesce(l.med_type, '') LIKE '52%')
           AND coalesce(l.insutype, '') NOT IN ('390', '391'))
