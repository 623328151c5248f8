-- Course limit. Use days = distinct fee dates of one person for the codes of one knowledge point. A course
-- runs on within an encounter, and across encounters while the gap to the previous use day is below
-- $course_gap_days. Lines on use days beyond max_days violate (grp 'D<course>'); a use day less than
-- min_interval_days after the previous use day violates (grp 'I<date>'). Self-paid lines count as use
-- days but do not violate.
WITH uses AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.inscp, k.kp_id, k.max_days, k.min_interval_days
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = $kb_class
    WHERE l.fee_date BETWEEN k.eff_from AND k.eff_to
      AND (k.max_days IS NOT NULL OR k.min_interval_days IS NOT NULL)
),
enc_days AS (  -- one row per person, point, encounter and use day
    SELECT psn_no, kp_id, mdtrt_id, fee_date FROM uses GROUP BY psn_no, kp_id, mdtrt_id, fee_date
),
prev AS (
    SELECT psn_no, kp_id, mdtrt_id, fee_date,
           lag(fee_date) OVER (PARTITION BY psn_no, kp_id ORDER BY fee_date, mdtrt_id) AS prev_any,
           lag(fee_date) OVER (PARTITION BY psn_no, kp_id, mdtrt_id ORDER BY fee_date) AS prev_same_enc
    FROM enc_days
),
courses AS (  -- a new course: first use, or first use in an encounter after a long enough gap
    SELECT psn_no, kp_id, fee_date,
           sum(CASE WHEN prev_any IS NULL
                      OR (prev_same_enc IS NULL AND date_diff('day', prev_any, fee_date) >= $course_gap_days)
                    THEN 1 ELSE 0 END)
               OVER (PARTITION BY psn_no, kp_id ORDER BY fee_date, mdtrt_id
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS course_no
    FROM prev
),
days AS (  -- one row per use day
    SELECT psn_no, kp_id, fee_date, min(course_no) AS course_no FROM courses GROUP BY psn_no, kp_id, fee_date
),
day_stats AS (
    SELECT psn_no, kp_id, fee_date, course_no,
           row_number() OVER (PARTITION BY psn_no, kp_id, course_no ORDER BY fee_date) AS day_no,
           count(*) OVER (PARTITION BY psn_no, kp_id, course_no) AS course_days,
           min(fee_date) OVER (PARTITION BY psn_no, kp_id, course_no) AS course_begn,
           max(fee_date) OVER (PARTITION BY psn_no, kp_id, course_no) AS course_end,
           lag(fee_date) OVER (PARTITION BY psn_no, kp_id ORDER BY fee_date) AS prev_day
    FROM days
),
hits AS (
    SELECT u.mdtrt_id, u.psn_no, u.fixmedins_code, u.setl_id, u.bkkp_sn, u.hilist_code, u.hilist_name,
           u.bilg_dr_code, u.kp_id, u.fee_date, u.max_days, u.min_interval_days, d.course_no, d.day_no,
           d.course_days, d.course_begn, d.course_end, d.prev_day,
           date_diff('day', d.prev_day, u.fee_date) AS gap_days,
           CASE WHEN d.day_no > u.max_days THEN 1 ELSE 0 END AS over_course
    FROM uses AS u
    JOIN day_stats AS d ON d.psn_no = u.psn_no AND d.kp_id = u.kp_id AND d.fee_date = u.fee_date
    WHERE u.inscp > 0  -- fully self-paid lines are not claimed
      AND (d.day_no > u.max_days OR date_diff('day', d.prev_day, u.fee_date) < u.min_interval_days)
)
SELECT h.mdtrt_id, h.psn_no, h.fixmedins_code, h.setl_id, h.bkkp_sn, h.hilist_code, h.hilist_name,
       h.bilg_dr_code, h.kp_id, h.fee_date, h.max_days, h.min_interval_days, h.day_no, h.course_days,
       h.course_begn, h.course_end, h.prev_day, h.gap_days,
       CASE WHEN h.over_course = 1 THEN 'D' || CAST(h.course_no AS VARCHAR)
            ELSE 'I' || CAST(h.fee_date AS VARCHAR) END AS grp,
       CASE WHEN h.over_course = 1
            THEN '限支付' || CAST(h.max_days AS VARCHAR) || '天，本疗程 ' || CAST(h.course_begn AS VARCHAR)
                 || ' 至 ' || CAST(h.course_end AS VARCHAR) || ' 共使用 ' || CAST(h.course_days AS VARCHAR)
                 || ' 天，第 ' || CAST(h.max_days + 1 AS VARCHAR) || ' 个使用日起超出支付疗程'
            ELSE '两次使用间隔不得少于' || CAST(h.min_interval_days AS VARCHAR) || '天，' || CAST(h.fee_date AS VARCHAR)
                 || ' 距上次使用（' || CAST(h.prev_day AS VARCHAR) || '）仅 ' || CAST(h.gap_days AS VARCHAR) || ' 天'
            END AS detail
FROM hits AS h
