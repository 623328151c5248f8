-- 虚假住院/冒名就医: one person in two places at once. An encounter at institution X overlaps an inpatient stay
-- at another institution Y. Days are compared as dates; contact on the admission or discharge day of the
-- stay (same-day transfer, a visit before admission or after discharge) is tolerated.
-- The outpatient/pharmacy encounter, or of two stays the later-starting one, is the finding.
WITH enc AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           e.med_type, e.begntime, e.begn_date, e.end_date,
           CASE WHEN e.med_type LIKE '2%' OR e.med_type = '52' THEN 1 ELSE 0 END AS is_ipt
    FROM fg_enc AS e
    WHERE NOT (';' || $remote_med_types || ';' LIKE '%;' || e.med_type || ';%')
      AND NOT (';' || $remote_medins_types || ';' LIKE '%;' || coalesce(e.medins_type, '#') || ';%')
),
pair AS (  -- y: the stay elsewhere, x: the conflicting encounter
    SELECT x.mdtrt_id, x.psn_no, x.fixmedins_code, x.medins_name, x.begn_date, x.end_date,
           CASE WHEN x.is_ipt = 1 THEN '住院（' || CAST(x.begn_date AS VARCHAR) || ' 至 ' || CAST(x.end_date AS VARCHAR) || '）'
                WHEN x.med_type = '41' THEN '购药（' || CAST(x.begn_date AS VARCHAR) || '）'
                ELSE '就诊（' || CAST(x.begn_date AS VARCHAR) || '）' END AS visit_desc,
           y.mdtrt_id AS stay_mdtrt_id, y.fixmedins_code AS stay_fixmedins_code, y.medins_name AS stay_medins_name,
           y.begn_date AS stay_begn_date, y.end_date AS stay_end_date,
           row_number() OVER (PARTITION BY x.mdtrt_id ORDER BY y.begntime, y.mdtrt_id) AS rn
    FROM enc AS y
    JOIN enc AS x ON x.psn_no = y.psn_no AND x.fixmedins_code <> y.fixmedins_code
    WHERE y.is_ipt = 1
      AND (greatest(x.begn_date, y.begn_date) < least(x.end_date, y.end_date)
           OR (x.begn_date > y.begn_date AND x.end_date < y.end_date))
      AND (x.is_ipt = 0 OR x.begntime > y.begntime OR (x.begntime = y.begntime AND x.mdtrt_id > y.mdtrt_id))
)
SELECT p.mdtrt_id, p.psn_no, p.fixmedins_code, p.medins_name, p.begn_date, p.end_date, p.visit_desc,
       p.stay_mdtrt_id, p.stay_fixmedins_code, p.stay_medins_name, p.stay_begn_date, p.stay_end_date
FROM pair AS p
WHERE p.rn = 1
