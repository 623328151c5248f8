-- 分解住院: readmission to the same institution within $readmit_days days of an earlier discharge,
-- with the same ICD-10 category or the same diag_family; the later stay is the finding.
WITH ipt AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           e.begntime, e.begn_date, e.end_date, coalesce(e.dscg_way, '#') AS dscg_way
    FROM fg_enc AS e
    WHERE e.med_type LIKE '2%' OR e.med_type = '52'
),
mdx AS (  -- main diagnoses of the stays (settlement list and discharge record), dots removed
    SELECT DISTINCT d.mdtrt_id, d.diag_code, upper(replace(d.diag_code, '.', '')) AS dx
    FROM fg_diag AS d
    WHERE d.maindiag_flag = '1' AND d.diag_code IS NOT NULL AND d.mdtrt_id IN (SELECT mdtrt_id FROM ipt)
),
rel AS (
    SELECT rel_type, code_b, upper(replace(code_a, '.', '')) AS pfx FROM kb_relations
    WHERE rel_type IN ('planned_cycle', 'diag_family') AND code_a IS NOT NULL AND code_a <> ''
),
mdx_pfx AS (  -- each main diagnosis cut at every prefix length the relations use: prefix tests become equi-joins
    SELECT m.mdtrt_id, m.dx, substr(m.dx, 1, n.n) AS pfx
    FROM mdx AS m
    CROSS JOIN (SELECT DISTINCT length(pfx) AS n FROM rel) AS n
    WHERE length(m.dx) >= n.n
),
planned AS (
    SELECT DISTINCT m.mdtrt_id
    FROM mdx_pfx AS m
    JOIN rel AS r ON r.rel_type = 'planned_cycle' AND r.pfx = m.pfx
),
fam AS (
    SELECT DISTINCT m.mdtrt_id, m.dx, r.code_b AS fam
    FROM mdx_pfx AS m
    JOIN rel AS r ON r.rel_type = 'diag_family' AND r.pfx = m.pfx
),
pair AS (  -- a: earlier stay, b: readmission
    SELECT b.mdtrt_id, b.psn_no, b.fixmedins_code, b.medins_name, b.begn_date, b.end_date,
           a.mdtrt_id AS prev_mdtrt_id, a.begn_date AS prev_begn_date, a.end_date AS prev_end_date,
           date_diff('day', a.end_date, b.begn_date) AS gap_days
    FROM ipt AS b
    JOIN ipt AS a ON a.psn_no = b.psn_no AND a.fixmedins_code = b.fixmedins_code AND a.mdtrt_id <> b.mdtrt_id
     AND (a.begntime < b.begntime OR (a.begntime = b.begntime AND a.mdtrt_id < b.mdtrt_id))
    WHERE date_diff('day', a.end_date, b.begn_date) BETWEEN 0 AND $readmit_days
      AND NOT (';' || $transfer_ways || ';' LIKE '%;' || a.dscg_way || ';%')
      AND NOT (';' || $death_ways || ';' LIKE '%;' || a.dscg_way || ';%')
      AND NOT (';' || $death_ways || ';' LIKE '%;' || b.dscg_way || ';%')
      AND a.mdtrt_id NOT IN (SELECT mdtrt_id FROM planned)
      AND b.mdtrt_id NOT IN (SELECT mdtrt_id FROM planned)
),
related AS (
    SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.medins_name, p.begn_date, p.end_date, p.prev_mdtrt_id,
           p.prev_begn_date, p.prev_end_date, p.gap_days, ma.diag_code AS prev_diag_code, mb.diag_code AS diag_code,
           CASE WHEN substr(ma.dx, 1, 3) = substr(mb.dx, 1, 3) THEN '同一疾病类目 ' || substr(mb.dx, 1, 3)
                ELSE '同一疾病族 ' || min(fb.fam) END AS relation,
           row_number() OVER (PARTITION BY p.mdtrt_id
                              ORDER BY p.gap_days, p.prev_mdtrt_id, ma.diag_code, mb.diag_code) AS rn
    FROM pair AS p
    JOIN mdx AS ma ON ma.mdtrt_id = p.prev_mdtrt_id
    JOIN mdx AS mb ON mb.mdtrt_id = p.mdtrt_id
    LEFT JOIN fam AS fa ON fa.mdtrt_id = ma.mdtrt_id AND fa.dx = ma.dx
    LEFT JOIN fam AS fb ON fb.mdtrt_id = mb.mdtrt_id AND fb.dx = mb.dx AND fb.fam = fa.fam
    GROUP BY p.mdtrt_id, p.psn_no, p.fixmedins_code, p.medins_name, p.begn_date, p.end_date, p.prev_mdtrt_id,
             p.prev_begn_date, p.prev_end_date, p.gap_days, ma.diag_code, mb.diag_code, ma.dx, mb.dx
    HAVING substr(ma.dx, 1, 3) = substr(mb.dx, 1, 3) OR count(fb.fam) > 0
)
SELECT r.mdtrt_id, r.psn_no, r.fixmedins_code, r.medins_name, r.begn_date, r.end_date, r.prev_mdtrt_id,
       r.prev_begn_date, r.prev_end_date, r.gap_days, r.prev_diag_code, r.diag_code, r.relation
FROM related AS r
WHERE r.rn = 1
