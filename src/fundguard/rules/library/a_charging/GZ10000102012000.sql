-- Duplicate charging: item A of a published pair already includes item B. Both charged in one
-- encounter on the same day (anywhere in the encounter for scope 同次就诊) -> the B lines violate.
WITH code AS (  -- the items charged: a pair matters only when both its items are among them
    SELECT DISTINCT hilist_code FROM fg_line
),
pair AS (  -- looked up from the charged items (a national knowledge base holds thousands of pairs)
    SELECT ka.kp_id, ka.hilist_code AS code_a, kb.hilist_code AS code_b, ka.eff_from, ka.eff_to,
           CASE WHEN ka.scope IN ('同次就诊', '单次就诊') THEN 1 ELSE 0 END AS whole_enc
    FROM code AS cb
    JOIN fg_kb AS kb ON kb.hilist_code = cb.hilist_code AND kb.rule_class = '医疗服务项目重复收费' AND kb.role = 'B'
    JOIN fg_kb AS ka ON ka.kp_id = kb.kp_id AND ka.rule_class = '医疗服务项目重复收费' AND ka.role = 'A'
    JOIN code AS ca ON ca.hilist_code = ka.hilist_code
    WHERE ka.hilist_code <> kb.hilist_code
      AND coalesce(ka.scope, '同日') IN ('同日', '单日', '同次就诊', '单次就诊')
),
day_item AS (  -- net quantity per encounter, day and item (refund lines net out), items of a pair only
    SELECT mdtrt_id, fee_date, hilist_code, min(hilist_name) AS hilist_name, sum(cnt) AS net_cnt
    FROM fg_line
    WHERE hilist_code IN (SELECT code_a FROM pair UNION ALL SELECT code_b FROM pair)
    GROUP BY mdtrt_id, fee_date, hilist_code
),
hit AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, p.kp_id, a.hilist_code AS a_code, a.hilist_name AS a_name,
           a.fee_date AS a_date
    FROM fg_line AS l
    JOIN pair AS p ON p.code_b = l.hilist_code AND l.fee_date BETWEEN p.eff_from AND p.eff_to
    JOIN day_item AS b ON b.mdtrt_id = l.mdtrt_id AND b.fee_date = l.fee_date AND b.hilist_code = l.hilist_code
    JOIN day_item AS a ON a.mdtrt_id = l.mdtrt_id AND a.hilist_code = p.code_a
     AND a.fee_date BETWEEN p.eff_from AND p.eff_to
     AND (a.fee_date = l.fee_date OR p.whole_enc = 1)
    WHERE l.cnt > 0 AND b.net_cnt > 0 AND a.net_cnt > 0
)
SELECT h.mdtrt_id, h.psn_no, h.fixmedins_code, h.setl_id, h.bkkp_sn, h.hilist_code, h.hilist_name,
       h.bilg_dr_code, h.kp_id, CAST(h.fee_date AS VARCHAR) AS grp, h.fee_date, h.a_code, h.a_name, h.a_date
FROM hit AS h
-- one finding line per B line: prefer an A on the same day, then the lowest kp_id
QUALIFY row_number() OVER (PARTITION BY h.bkkp_sn
                           ORDER BY CASE WHEN h.a_date = h.fee_date THEN 0 ELSE 1 END, h.kp_id, h.a_date, h.a_code) = 1
