-- Encounters with an operation code (ICD-9-CM-3) starting with an oprn_gender prefix of the other gender.
-- One row per encounter (main operation first, then the smallest code); codes compared upper-case without dots.
WITH rel AS (
    SELECT code_a, code_b, replace(upper(trim(code_a)), '.', '') AS pfx
    FROM kb_relations
    WHERE rel_type = 'oprn_gender' AND code_b IN ('1', '2') AND trim(coalesce(code_a, '')) <> ''
),
lens AS (SELECT DISTINCT length(pfx) AS n FROM rel),
op AS (  -- each operation cut at every prefix length the relation uses: the prefix test becomes an equi-join
    SELECT o.*, substr(replace(upper(trim(o.oprn_oprt_code)), '.', ''), 1, n.n) AS pfx
    FROM fg_oprn AS o
    CROSS JOIN lens AS n
    WHERE length(replace(upper(trim(o.oprn_oprt_code)), '.', '')) >= n.n
),
bad AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.gend, e.begn_date, o.oprn_oprt_code, o.oprn_oprt_name,
           o.oprn_date, r.code_a AS oprn_prefix, r.code_b AS limit_gend
    FROM fg_enc AS e
    JOIN op AS o ON o.mdtrt_id = e.mdtrt_id
    JOIN rel AS r ON r.pfx = o.pfx
    WHERE e.gend IN ('1', '2') AND e.gend <> r.code_b
    QUALIFY row_number() OVER (PARTITION BY e.mdtrt_id
                               ORDER BY CASE WHEN o.main_oprn_flag = '1' THEN 0 ELSE 1 END,
                                        upper(o.oprn_oprt_code), o.oprn_oprt_code, o.oprn_oprt_name,
                                        o.setl_list_oprn_id, r.code_a, r.code_b, e.mdtrt_id) = 1
),
setl AS (  -- of the flagged encounters only (a city-year has millions of settlements)
    SELECT mdtrt_id, min(setl_id) AS setl_id FROM fg_setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM bad) GROUP BY mdtrt_id
)
SELECT b.mdtrt_id, b.psn_no, b.fixmedins_code, s.setl_id, b.gend, b.begn_date, b.oprn_oprt_code,
       b.oprn_oprt_name, b.oprn_date, b.oprn_prefix,
       CASE b.limit_gend WHEN '1' THEN '男性' ELSE '女性' END AS limit_gend_name
FROM bad AS b
LEFT JOIN setl AS s ON s.mdtrt_id = b.mdtrt_id
