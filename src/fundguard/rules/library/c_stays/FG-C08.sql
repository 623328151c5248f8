-- 药店销售生活用品、化妆品: pharmacy fee lines (fixmedins_type 2, medins_type 51 or med_type 41) whose national
-- code or the pharmacy's own code equals or starts with a kb_relations non_medical_goods code, paid by the fund.
WITH cand AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           r.code_a AS goods_code, coalesce(r.name_a, f.medins_list_name, l.hilist_name) AS goods_name,
           row_number() OVER (PARTITION BY l.bkkp_sn ORDER BY length(r.code_a) DESC, r.code_a, coalesce(r.name_a, '')) AS rn
    FROM fg_line AS l
    JOIN fg_enc AS e ON e.mdtrt_id = l.mdtrt_id
    JOIN fee_list_d AS f ON f.bkkp_sn = l.bkkp_sn
    JOIN kb_relations AS r ON r.rel_type = 'non_medical_goods' AND r.code_a IS NOT NULL AND r.code_a <> ''
     AND (starts_with(l.hilist_code, r.code_a) OR starts_with(coalesce(f.medins_list_codg, ''), r.code_a)
          OR starts_with(coalesce(f.med_list_codg, ''), r.code_a))
    WHERE (l.fixmedins_type = '2' OR l.medins_type = '51' OR l.med_type = '41') AND l.line_fund > 0
)
SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.bkkp_sn, c.hilist_code, c.hilist_name, c.bilg_dr_code,
       c.fee_date, c.medins_name, c.goods_code, c.goods_name
FROM cand AS c
WHERE c.rn = 1
