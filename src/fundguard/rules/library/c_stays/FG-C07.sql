-- 超诊疗范围: fee lines billed in a department whose 诊疗科目 (first 3 characters of bilg_dept_codg: a letter and
-- two digits) is not among the institution's approved subjects (medins_info.prac_scope, ';'-separated).
-- Institutions without prac_scope and departments without a subject prefix are skipped.
WITH ln AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.bilg_dept_codg,
           coalesce(l.bilg_dept_name, l.bilg_dept_codg) AS dept_name,
           upper(substr(l.bilg_dept_codg, 1, 3)) AS subject,
           e.prac_scope, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           ';' || upper(replace(replace(replace(replace(e.prac_scope, ' ', ''), ',', ';'), '，', ';'), '、', ';'))
               || ';' AS scope_list
    FROM fg_line AS l
    JOIN fg_enc AS e ON e.mdtrt_id = l.mdtrt_id
    WHERE e.prac_scope IS NOT NULL AND trim(e.prac_scope) <> '' AND length(l.bilg_dept_codg) >= 3
)
SELECT n.mdtrt_id, n.psn_no, n.fixmedins_code, n.setl_id, n.bkkp_sn, n.hilist_code, n.hilist_name, n.bilg_dr_code,
       n.subject AS grp, n.subject, n.bilg_dept_codg, n.dept_name, n.prac_scope, n.medins_name, n.fee_date
FROM ln AS n
WHERE substr(n.subject, 1, 1) BETWEEN 'A' AND 'Z'
  AND substr(n.subject, 2, 1) BETWEEN '0' AND '9'
  AND substr(n.subject, 3, 1) BETWEEN '0' AND '9'
  AND NOT (n.scope_list LIKE '%;' || n.subject || '%')
