-- 无指征住院（低标准入院）: short stays (los_days <= $max_days) for a light main diagnosis whose clinical fees
-- (all fees except the daily stay charges $stay_types: bed, examination, nursing ...) are almost only tests and
-- drugs (share >= $low_share); the whole stay is the finding.
WITH ipt AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           e.begn_date, e.end_date, e.los_days
    FROM fg_enc AS e
    WHERE (e.med_type LIKE '2%' OR e.med_type = '52') AND e.los_days <= $max_days
      AND NOT (';' || $excluded_dscg_ways || ';' LIKE '%;' || coalesce(e.dscg_way, '#') || ';%')
      AND e.mdtrt_id NOT IN (SELECT o.mdtrt_id FROM fg_oprn AS o)
),
fees AS (
    SELECT i.mdtrt_id, sum(l.fee) AS enc_fee,
           sum(CASE WHEN ';' || $stay_types || ';' LIKE '%;' || coalesce(l.med_chrgitm_type, '#') || ';%'
                    THEN 0 ELSE l.fee END) AS clin_fee,
           sum(CASE WHEN ';' || $low_types || ';' LIKE '%;' || coalesce(l.med_chrgitm_type, '#') || ';%'
                    THEN l.fee ELSE 0 END) AS low_fee,
           sum(CASE WHEN l.med_chrgitm_type = '06' THEN 1 ELSE 0 END) AS n_oprn_lines
    FROM ipt AS i
    JOIN fg_line AS l ON l.mdtrt_id = i.mdtrt_id
    GROUP BY i.mdtrt_id
),
rel AS (
    SELECT name_a, upper(replace(code_a, '.', '')) AS pfx FROM kb_relations
    WHERE rel_type = 'light_diag' AND code_a IS NOT NULL AND code_a <> ''
),
mdx AS (  -- main diagnoses of the short stays, cut at every prefix length the relation uses (an equi-join)
    SELECT d.mdtrt_id, d.diag_code, substr(upper(replace(d.diag_code, '.', '')), 1, n.n) AS pfx
    FROM fg_diag AS d
    CROSS JOIN (SELECT DISTINCT length(pfx) AS n FROM rel) AS n
    WHERE d.maindiag_flag = '1' AND d.mdtrt_id IN (SELECT mdtrt_id FROM ipt)
      AND length(upper(replace(d.diag_code, '.', ''))) >= n.n
),
light AS (  -- main diagnosis is a light condition (kb_relations light_diag prefix)
    SELECT d.mdtrt_id, min(d.diag_code) AS diag_code, min(r.name_a) AS light_name
    FROM mdx AS d
    JOIN rel AS r ON r.pfx = d.pfx
    GROUP BY d.mdtrt_id
)
SELECT i.mdtrt_id, i.psn_no, i.fixmedins_code, i.medins_name, i.begn_date, i.end_date, i.los_days AS stay_days,
       g.diag_code, g.light_name, f.enc_fee, f.clin_fee, f.low_fee,
       round(100 * CAST(f.low_fee AS DOUBLE) / CAST(f.clin_fee AS DOUBLE), 1) AS low_pct
FROM ipt AS i
JOIN fees AS f ON f.mdtrt_id = i.mdtrt_id
JOIN light AS g ON g.mdtrt_id = i.mdtrt_id
WHERE f.clin_fee > 0 AND f.n_oprn_lines = 0 AND f.low_fee >= $low_share * f.clin_fee
