-- Encounters with a diagnosis whose code starts with a diag_age prefix the patient's age at admission
-- contradicts: note 'max' → age >= value violates; note 'min' → age < value violates. Whole-year values
-- compare completed years; fractional values compare days / 365.25. One row per encounter.
WITH rel AS (
    SELECT code_a, value, note, replace(upper(trim(code_a)), '.', '') AS pfx
    FROM kb_relations
    WHERE rel_type = 'diag_age' AND value IS NOT NULL AND trim(coalesce(code_a, '')) <> ''
),
lens AS (SELECT DISTINCT length(pfx) AS n FROM rel),
dn AS (  -- each diagnosis code normalised once, not once per prefix length
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, replace(upper(trim(d.diag_code)), '.', '') AS code_n
    FROM fg_diag AS d
),
dx AS (  -- each diagnosis cut at every prefix length the relation uses: the prefix test becomes an equi-join
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, substr(d.code_n, 1, n.n) AS pfx
    FROM dn AS d
    CROSS JOIN lens AS n
    WHERE length(d.code_n) >= n.n
),
bad AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.begn_date, e.age_years, d.diag_code, d.diag_name,
           r.code_a AS diag_prefix, r.value AS age_limit, lower(trim(r.note)) AS limit_kind
    FROM fg_enc AS e
    JOIN dx AS d ON d.mdtrt_id = e.mdtrt_id
    JOIN rel AS r ON r.pfx = d.pfx
    WHERE e.brdy IS NOT NULL
      AND ((lower(trim(r.note)) = 'max'
            AND CASE WHEN r.value = floor(r.value) THEN CAST(e.age_years AS DOUBLE)
                     ELSE date_diff('day', e.brdy, e.begn_date) / 365.25 END >= r.value)
        OR (lower(trim(r.note)) = 'min'
            AND CASE WHEN r.value = floor(r.value) THEN CAST(e.age_years AS DOUBLE)
                     ELSE date_diff('day', e.brdy, e.begn_date) / 365.25 END < r.value))
    QUALIFY row_number() OVER (PARTITION BY e.mdtrt_id
                               ORDER BY CASE WHEN d.maindiag_flag = '1' THEN 0 ELSE 1 END, upper(d.diag_code),
                                        d.diag_code, d.diag_name, r.code_a, r.note, r.value, e.mdtrt_id) = 1
),
setl AS (  -- of the flagged encounters only (a city-year has millions of settlements)
    SELECT mdtrt_id, min(setl_id) AS setl_id FROM fg_setl
    WHERE mdtrt_id IN (SELECT mdtrt_id FROM bad) GROUP BY mdtrt_id
)
SELECT b.mdtrt_id, b.psn_no, b.fixmedins_code, s.setl_id, b.begn_date, b.age_years, b.diag_code, b.diag_name,
       b.diag_prefix, b.age_limit,
       CASE WHEN b.limit_kind = 'max' THEN '岁以下（不含）' ELSE '岁及以上' END AS limit_unit
FROM bad AS b
LEFT JOIN setl AS s ON s.mdtrt_id = b.mdtrt_id
