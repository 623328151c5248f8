-- Second-line drug lines with no earlier first-line use by the same person (any encounter or
-- institution, 1..$lookback_days days before). Evidence: a line of a listed first-line code (full
-- code or code prefix); when the point lists none, a drug line of the same class prefix
-- (characters 2..1+$class_prefix_len of the code) that is not one of the point's own codes.
WITH hit AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, k.kp_id,
           CASE WHEN trim(coalesce(k.first_line_codes, '')) = '' THEN NULL ELSE k.first_line_codes END AS first_line_codes
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '药品限二线使用'
    WHERE l.fee_date BETWEEN k.eff_from AND k.eff_to
      AND l.inscp > 0
),
fl_raw AS (
    SELECT f.kp_id, unnest(string_split(f.first_line_codes, ';')) AS code
    FROM (SELECT DISTINCT kp_id, first_line_codes FROM hit WHERE first_line_codes IS NOT NULL) AS f
),
fl AS (
    SELECT DISTINCT kp_id, upper(trim(code)) AS code FROM fl_raw WHERE trim(code) <> ''
),
own AS (  -- the codes of the points hit (looked up by point, not by scanning the class)
    SELECT DISTINCT kp_id, hilist_code FROM fg_kb
    WHERE rule_class = '药品限二线使用' AND kp_id IN (SELECT kp_id FROM hit)
),
ev_listed AS (
    SELECT DISTINCT h.bkkp_sn, h.kp_id
    FROM hit AS h
    JOIN fl ON fl.kp_id = h.kp_id
    JOIN fg_line AS p ON p.psn_no = h.psn_no AND starts_with(upper(p.hilist_code), fl.code)
    WHERE date_diff('day', p.fee_date, h.fee_date) BETWEEN 1 AND $lookback_days
),
ev_class AS (
    SELECT DISTINCT h.bkkp_sn, h.kp_id
    FROM hit AS h
    JOIN fg_line AS p ON p.psn_no = h.psn_no
         AND substr(p.hilist_code, 1, 1 + $class_prefix_len) = substr(h.hilist_code, 1, 1 + $class_prefix_len)
    LEFT JOIN own AS o ON o.kp_id = h.kp_id AND o.hilist_code = p.hilist_code
    WHERE h.first_line_codes IS NULL
      AND substr(p.hilist_code, 1, 1) IN ('X', 'Z')
      AND p.hilist_code <> h.hilist_code AND o.hilist_code IS NULL
      AND date_diff('day', p.fee_date, h.fee_date) BETWEEN 1 AND $lookback_days
)
SELECT h.mdtrt_id, h.psn_no, h.fixmedins_code, h.setl_id, h.bkkp_sn, h.hilist_code, h.hilist_name,
       h.bilg_dr_code, h.kp_id, h.fee_date,
       CASE WHEN h.first_line_codes IS NULL
            THEN '同类药品（编码第 2 位起 ' || substr(h.hilist_code, 2, $class_prefix_len) || '）'
            ELSE '一线药品（' || h.first_line_codes || '）' END AS first_line_text
FROM hit AS h
LEFT JOIN ev_listed AS a ON a.bkkp_sn = h.bkkp_sn AND a.kp_id = h.kp_id
LEFT JOIN ev_class AS b ON b.bkkp_sn = h.bkkp_sn AND b.kp_id = h.kp_id
WHERE a.bkkp_sn IS NULL AND b.bkkp_sn IS NULL
