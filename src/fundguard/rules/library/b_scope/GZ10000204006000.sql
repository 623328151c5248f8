-- Encounters with a diagnosis whose code starts with a diag_gender prefix of the other gender.
-- One row per encounter (main diagnosis first, then the smallest code); codes compared upper-case without dots.
WITH rel AS (
    SELECT code_a, code_b, replace(upper(trim(code_a)), '.', '') AS pfx
    FROM kb_relations
    WHERE rel_type = 'diag_gender' AND code_b IN ('1', '2') AND trim(coalesce(code_a, '')) <> ''
),
lens AS (SELECT DISTINCT length(pfx) AS n FROM rel),
code_rel AS (  -- the relation rows each distinct diagnosis code starts with: the codes are cut at every prefix
              -- length the relation uses (an equi-join), once per distinct code, not once per diagnosis
    SELECT c.diag_code, r.*
    FROM (SELECT DISTINCT diag_code, replace(upper(trim(diag_code)), '.', '') AS code_n FROM fg_diag) AS c
    CROSS JOIN lens AS n
    JOIN rel AS r ON r.pfx = substr(c.code_n, 1, n.n)
    WHERE length(c.code_n) >= n.n
),
dg AS MATERIALIZED (  -- the diagnoses with a gender-specific code (kept apart: joined with the encounters
                      -- first, the other-gender test would pair every encounter with every relation row)
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, r.code_a, r.code_b
    FROM fg_diag AS d
    JOIN code_rel AS r ON r.diag_code = d.diag_code
),
bad AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.gend, e.begn_date, d.diag_code, d.diag_name,
           d.code_a AS diag_prefix, d.code_b AS limit_gend
    FROM fg_enc AS e
    JOIN dg AS d ON d.mdtrt_id = e.mdtrt_id
    WHERE e.gend IN ('1', '2') AND e.gend <> d.code_b
    QUALIFY row_number() OVER (PARTITION BY e.mdtrt_id
                               ORDER BY CASE WHEN d.maindiag_flag = '1' THEN 0 ELSE 1 END, upper(d.diag_code),
                                        d.diag_code, d.diag_name, d.code_a, d.code_b, e.mdtrt_id) = 1
),
setl AS (  -- of the flagged encounters only (a city-year has millions of settlements)
    SELECT mdtrt_id, min(setl_id) AS setl_id FROM fg_setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM bad) GROUP BY mdtrt_id
)
SELECT b.mdtrt_id, b.psn_no, b.fixmedins_code, s.setl_id, b.gend, b.begn_date, b.diag_code, b.diag_name,
       b.diag_prefix, CASE b.limit_gend WHEN '1' THEN '男性' ELSE '女性' END AS limit_gend_name
FROM bad AS b
LEFT JOIN setl AS s ON s.mdtrt_id = b.mdtrt_id
