-- Encounters with a diagnosis whose code starts with a diag_age prefix the patient's age at admission
-- contradicts: note 'max' → age >= value violates; note 'min' → age < value violates. Whole-year values
-- compare completed years; fractional values compare days / 365.25. One row per encounter.
WITH rel AS (
    SELECT code_a, value, note, replace(upper(trim(code_a)), '.', '') AS pfx
    FROM kb_relations
    WHERE rel_type = 'diag_age' AND value IS NOT NULL AND trim(coalesce(code_a, '')) <> ''
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
dg AS MATERIALIZED (  -- the diagnoses with an age-specific code (kept apart: joined with the encounters first,
                      -- the age test would pair every encounter with every relation row)
    SELECT d.mdtrt_id, d.diag_code, d.diag_name, d.maindiag_flag, r.code_a, r.value, r.note
    FROM fg_diag AS d
    JOIN code_rel AS r ON r.diag_code = d.diag_code
),
bad AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.begn_date, e.age_years, d.diag_code, d.diag_name,
           d.code_a AS diag_prefix, d.value AS age_limit, lower(trim(d.note)) AS limit_kind
    FROM fg_enc AS e
    JOIN dg AS d ON d.mdtrt_id = e.mdtrt_id
    WHERE e.brdy IS NOT NULL
      AND ((lower(trim(d.note)) = 'max'
            AND CASE WHEN d.value = floor(d.value) THEN CAST(e.age_years AS DOUBLE)
                     ELSE date_diff('day', e.brdy, e.begn_date) / 365.25 END >= d.value)
        OR (lower(trim(d.note)) = 'min'
            AND CASE WHEN d.value = floor(d.value) THEN CAST(e.age_years AS DOUBLE)
                     ELSE date_diff('day', e.brdy, e.begn_date) / 365.25 END < d.value))
    QUALIFY row_number() OVER (PARTITION BY e.mdtrt_id
                               ORDER BY CASE WHEN d.maindiag_flag = '1' THEN 0 ELSE 1 END, upper(d.diag_code),
                                        d.diag_code, d.diag_name, d.code_a, d.note, d.value, e.mdtrt_id) = 1
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
