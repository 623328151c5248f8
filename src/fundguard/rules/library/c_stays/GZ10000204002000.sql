-- 频繁门诊 (and 频繁购药, GZ10000204003000, through sql_from): per person and institution, an encounter is
-- excess when it is at least the $min_visits-th encounter within $window_days days (window ending on its date,
-- inclusive). Consecutive excess encounters form one finding (person level, grp = date of the first excess
-- encounter); their fee lines are returned. The encounters counted: those whose med_type starts with one of
-- $otp_med_types, at institutions other than retail pharmacies ($retail_pharmacy '排除', 频繁门诊), or at any
-- institution, plus every encounter at a retail pharmacy ($retail_pharmacy '计入', 频繁购药).
-- Encounters whose main diagnosis is a planned cycle (chemo, radiotherapy, dialysis) are not counted.
WITH planned AS (
    SELECT DISTINCT d.mdtrt_id
    FROM fg_diag AS d
    JOIN kb_relations AS r ON r.rel_type = 'planned_cycle'
     AND starts_with(upper(replace(d.diag_code, '.', '')), upper(replace(r.code_a, '.', '')))
    WHERE d.maindiag_flag = '1'
),
enc AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           e.begntime, e.begn_date
    FROM fg_enc AS e
    WHERE CASE WHEN $retail_pharmacy = '计入'
               THEN ';' || $otp_med_types || ';' LIKE '%;' || substr(e.med_type, 1, 2) || ';%'
                    OR coalesce(e.fixmedins_type, '1') = '2' OR coalesce(e.medins_type, '#') = '51'
               ELSE ';' || $otp_med_types || ';' LIKE '%;' || substr(e.med_type, 1, 2) || ';%'
                    AND coalesce(e.fixmedins_type, '1') <> '2' AND coalesce(e.medins_type, '#') <> '51' END
),
counted AS NOT MATERIALIZED (  -- the encounters counted; read twice (counts, then the encounters of busy pairs)
    SELECT c.* FROM enc AS c WHERE c.mdtrt_id NOT IN (SELECT p.mdtrt_id FROM planned AS p)
),
busy AS (  -- person and institution pairs with at least $min_visits encounters in all: only they can be frequent
    SELECT psn_no, fixmedins_code FROM counted GROUP BY psn_no, fixmedins_code HAVING count(*) >= $min_visits
),
seq AS (
    SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.medins_name, c.begn_date,
           row_number() OVER (PARTITION BY c.psn_no, c.fixmedins_code ORDER BY c.begntime, c.mdtrt_id) AS rn
    FROM counted AS c
    JOIN busy AS b ON b.psn_no = c.psn_no AND b.fixmedins_code = c.fixmedins_code
),
win AS (  -- encounters in the window ending at each encounter
    SELECT s.mdtrt_id, s.psn_no, s.fixmedins_code, s.medins_name, s.begn_date, s.rn,
           count(*) AS win_cnt, min(w.begn_date) AS win_begn_date
    FROM seq AS s
    JOIN seq AS w ON w.psn_no = s.psn_no AND w.fixmedins_code = s.fixmedins_code AND w.rn <= s.rn
     AND date_diff('day', w.begn_date, s.begn_date) < $window_days
    GROUP BY s.mdtrt_id, s.psn_no, s.fixmedins_code, s.medins_name, s.begn_date, s.rn
),
excess AS (  -- island key: constant over consecutive excess encounters
    SELECT x.mdtrt_id, x.psn_no, x.fixmedins_code, x.medins_name, x.begn_date, x.win_begn_date,
           x.rn - row_number() OVER (PARTITION BY x.psn_no, x.fixmedins_code ORDER BY x.rn) AS island
    FROM win AS x
    WHERE x.win_cnt >= $min_visits
),
episode AS (
    SELECT x.psn_no, x.fixmedins_code, x.island, min(x.win_begn_date) AS win_begn_date,
           min(x.begn_date) AS first_excess_date, max(x.begn_date) AS last_date, count(*) AS excess_cnt
    FROM excess AS x
    GROUP BY x.psn_no, x.fixmedins_code, x.island
)
SELECT CAST(NULL AS VARCHAR) AS mdtrt_id, x.psn_no, x.fixmedins_code, l.bkkp_sn, l.hilist_code, l.hilist_name,
       CAST(p.first_excess_date AS VARCHAR) AS grp, x.medins_name, x.mdtrt_id AS excess_mdtrt_id,
       p.win_begn_date, p.first_excess_date, p.last_date, p.excess_cnt,
       $min_visits - 1 + p.excess_cnt AS visit_cnt
FROM excess AS x
JOIN episode AS p ON p.psn_no = x.psn_no AND p.fixmedins_code = x.fixmedins_code AND p.island = x.island
JOIN fg_line AS l ON l.mdtrt_id = x.mdtrt_id
