-- Encounters with a diagnosis whose code starts with a diag_gender prefix of the other gender.
-- One row per encounter (main diagnosis first, then the smallest code); codes compared upper-case without dots.
-- The prefix test is an equi-join: each diagnosis is cut at every prefix length the relation uses.
WITH rel AS (
    SELECT code_a, code_b, replace(upper(trim(code_a)), '.', '') AS pfx
    FROM kb_relations
    WHERE rel_type = 'diag_gender' AND code_b IN ('1', '2') AND trim(coalesce(code_a, '')) <> ''
),
lens AS (SELECT DISTINCT length(pfx) AS n FROM rel),
dn AS (  -- each diagnosis code normalised once, not once per prefix length
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, replace(upper(trim(d.diag_code)), '.', '') AS code_n
    FROM fg_diag AS d
),
dx AS (
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, substr(d.code_n, 1, n.n) AS pfx
    FROM dn AS d
    CROSS JOIN lens AS n
    WHERE length(d.code_n) >= n.n
),
bad AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.gend, e.begn_date, d.diag_code, d.diag_name,
           r.code_a AS diag_prefix, r.code_b AS limit_gend
    FROM fg_enc AS e
    JOIN dx AS d ON d.mdtrt_id = e.mdtrt_id
    JOIN rel AS r ON r.pfx = d.pfx
    WHERE e.gend IN ('1', '2') AND e.gend <> r.code_b
    QUALIFY row_number() OVER (PARTITION BY e.mdtrt_id
                               ORDER BY CASE WHEN d.maindiag_flag = '1' THEN 0 ELSE 1 END, upper(d.diag_code),
                                        d.diag_code, d.diag_name, r.code_a, r.code_b, e.mdtrt_id) = 1
),
setl AS (  -- of the flagged encounters only (a city-year has millions of settlements)
    SELECT mdtrt_id, min(setl_id) AS setl_id FROM fg_setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM bad) GROUP BY mdtrt_id
)
SELECT b.mdtrt_id, b.psn_no, b.fixmedins_code, s.setl_id, b.gend, b.begn_date, b.diag_code, b.diag_name,
       b.diag_prefix, CASE b.limit_gend WHEN '1' THEN '男性' ELSE '女性' END AS limit_gend_name
FROM bad AS b
LEFT JOIN setl AS s ON s.mdtrt_id = b.mdtrt_id
