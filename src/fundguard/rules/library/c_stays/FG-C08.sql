-- 药店销售生活用品、化妆品: pharmacy fee lines (fixmedins_type 2, medins_type 51 or med_type 41) whose national
-- code or the pharmacy's own code equals or starts with a kb_relations non_medical_goods code, paid by the fund.
-- Prefix test as an equi-join: each distinct code of the lines is cut at every length a goods code has (see
-- docs/rule-authoring.md); a city has a few hundred codes of each kind, so the lines are then read with the few
-- codes found, and the pharmacy lines among them kept.
WITH goods AS (
    SELECT r.code_a, r.name_a, length(r.code_a) AS n
    FROM kb_relations AS r
    WHERE r.rel_type = 'non_medical_goods' AND r.code_a IS NOT NULL AND r.code_a <> ''
),
lens AS (SELECT DISTINCT n FROM goods),
code_goods AS (  -- the goods each distinct code of the lines is or starts with
    SELECT c.code, g.code_a, g.name_a, g.n
    FROM (SELECT hilist_code AS code FROM fee_list_d
          UNION SELECT medins_list_codg FROM fee_list_d
          UNION SELECT med_list_codg FROM fee_list_d) AS c
    CROSS JOIN lens AS k
    JOIN goods AS g ON g.code_a = substr(c.code, 1, k.n) AND g.n = k.n
    WHERE length(c.code) >= k.n
),
coded AS (  -- lines with a goods code (national, the pharmacy's own or the medical list code)
    SELECT f.bkkp_sn, f.medins_list_name, g.code_a, g.name_a, g.n
    FROM fee_list_d AS f JOIN code_goods AS g ON g.code = f.hilist_code
    UNION ALL
    SELECT f.bkkp_sn, f.medins_list_name, g.code_a, g.name_a, g.n
    FROM fee_list_d AS f JOIN code_goods AS g ON g.code = f.medins_list_codg
    UNION ALL
    SELECT f.bkkp_sn, f.medins_list_name, g.code_a, g.name_a, g.n
    FROM fee_list_d AS f JOIN code_goods AS g ON g.code = f.med_list_codg
),
hit AS (
    SELECT c.bkkp_sn, c.medins_list_name, c.code_a, c.name_a,
           row_number() OVER (PARTITION BY c.bkkp_sn ORDER BY c.n DESC, c.code_a, coalesce(c.name_a, '')) AS rn
    FROM coded AS c
)
SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name, l.bilg_dr_code,
       l.fee_date, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
       h.code_a AS goods_code, coalesce(h.name_a, h.medins_list_name, l.hilist_name) AS goods_name
FROM hit AS h
JOIN fg_line AS l ON l.bkkp_sn = h.bkkp_sn
JOIN fg_enc AS e ON e.mdtrt_id = l.mdtrt_id
WHERE h.rn = 1
  AND (l.fixmedins_type = '2' OR l.medins_type = '51' OR l.med_type = '41') AND l.line_fund > 0
