-- 药店销售生活用品、化妆品: pharmacy fee lines (fixmedins_type 2, medins_type 51 or med_type 41) whose national
-- code or the pharmacy's own code equals or starts with a kb_relations non_medical_goods code, paid by the fund.
-- Prefix test as an equi-join: each code is cut at every length a goods code has (see docs/rule-authoring.md).
WITH goods AS (
    SELECT r.code_a, r.name_a, length(r.code_a) AS n
    FROM kb_relations AS r
    WHERE r.rel_type = 'non_medical_goods' AND r.code_a IS NOT NULL AND r.code_a <> ''
),
lens AS (SELECT DISTINCT n FROM goods),
ph AS (  -- pharmacy lines paid by the fund, with the pharmacy's own codes
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, f.medins_list_codg, f.med_list_codg, f.medins_list_name
    FROM fg_line AS l
    JOIN fee_list_d AS f ON f.bkkp_sn = l.bkkp_sn
    WHERE (l.fixmedins_type = '2' OR l.medins_type = '51' OR l.med_type = '41') AND l.line_fund > 0
),
codes AS (
    SELECT bkkp_sn, hilist_code AS code FROM ph WHERE hilist_code IS NOT NULL
    UNION ALL SELECT bkkp_sn, medins_list_codg FROM ph WHERE medins_list_codg IS NOT NULL
    UNION ALL SELECT bkkp_sn, med_list_codg FROM ph WHERE med_list_codg IS NOT NULL
),
cut AS (  -- each code at every length a goods code has
    SELECT c.bkkp_sn, k.n, substr(c.code, 1, k.n) AS pfx
    FROM codes AS c
    CROSS JOIN lens AS k
    WHERE length(c.code) >= k.n
),
hit AS (
    SELECT c.bkkp_sn, g.code_a, g.name_a,
           row_number() OVER (PARTITION BY c.bkkp_sn ORDER BY g.n DESC, g.code_a, coalesce(g.name_a, '')) AS rn
    FROM cut AS c
    JOIN goods AS g ON g.code_a = c.pfx AND g.n = c.n
)
SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.setl_id, p.bkkp_sn, p.hilist_code, p.hilist_name, p.bilg_dr_code,
       p.fee_date, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
       h.code_a AS goods_code, coalesce(h.name_a, p.medins_list_name, p.hilist_name) AS goods_name
FROM hit AS h
JOIN ph AS p ON p.bkkp_sn = h.bkkp_sn
JOIN fg_enc AS e ON e.mdtrt_id = p.mdtrt_id
WHERE h.rn = 1
