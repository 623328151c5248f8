-- 超诊疗范围: fee lines of a 诊疗科目 that is not among the institution's approved subjects (medins_info.prac_scope,
-- ';'-separated; an approved entry covers the subject when it starts with the subject code). The subject of a line is
--   (1) the subject its service item requires (kb_relations item_subject: item code_a needs subject code_b), or
--   (2) the subject of the billing department (first 3 characters of bilg_dept_codg: a letter and two digits).
-- Institutions without prac_scope are skipped; a line both checks flag is reported once (the item's subject first).
WITH ln AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.bilg_dept_codg,
           coalesce(l.bilg_dept_name, l.bilg_dept_codg) AS dept_name,
           e.prac_scope, coalesce(e.fixmedins_name, e.fixmedins_code) AS medins_name,
           ';' || upper(replace(replace(replace(replace(e.prac_scope, ' ', ''), ',', ';'), '，', ';'), '、', ';'))
               || ';' AS scope_list
    FROM fg_line AS l
    JOIN fg_enc AS e ON e.mdtrt_id = l.mdtrt_id
    WHERE e.prac_scope IS NOT NULL AND trim(e.prac_scope) <> ''
),
item_subj AS (
    SELECT code_a AS hilist_code, upper(trim(code_b)) AS subject, min(name_b) AS subject_name
    FROM kb_relations
    WHERE rel_type = 'item_subject' AND code_a IS NOT NULL AND code_b IS NOT NULL AND trim(code_b) <> ''
    GROUP BY code_a, upper(trim(code_b))
),
by_item AS (
    SELECT n.*, s.subject, 1 AS basis_rank,
           '项目须具备诊疗科目 ' || s.subject || coalesce('（' || s.subject_name || '）', '') AS basis_text
    FROM ln AS n
    JOIN item_subj AS s ON s.hilist_code = n.hilist_code
),
by_dept AS (
    SELECT n.*, upper(substr(n.bilg_dept_codg, 1, 3)) AS subject, 2 AS basis_rank,
           '开单科室 ' || n.dept_name || '（' || n.bilg_dept_codg || '）属诊疗科目 '
               || upper(substr(n.bilg_dept_codg, 1, 3)) AS basis_text
    FROM ln AS n
    WHERE length(n.bilg_dept_codg) >= 3
      AND upper(substr(n.bilg_dept_codg, 1, 1)) BETWEEN 'A' AND 'Z'
      AND substr(n.bilg_dept_codg, 2, 1) BETWEEN '0' AND '9'
      AND substr(n.bilg_dept_codg, 3, 1) BETWEEN '0' AND '9'
),
cand AS (
    SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code, fee_date,
           bilg_dept_codg, dept_name, prac_scope, medins_name, scope_list, subject, basis_rank, basis_text
    FROM by_item
    UNION ALL
    SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code, fee_date,
           bilg_dept_codg, dept_name, prac_scope, medins_name, scope_list, subject, basis_rank, basis_text
    FROM by_dept
)
SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.bkkp_sn, c.hilist_code, c.hilist_name, c.bilg_dr_code,
       c.subject AS grp, c.subject, c.basis_text, c.bilg_dept_codg, c.dept_name, c.prac_scope, c.medins_name, c.fee_date
FROM cand AS c
WHERE NOT (c.scope_list LIKE '%;' || c.subject || '%')
QUALIFY row_number() OVER (PARTITION BY c.bkkp_sn ORDER BY c.basis_rank, c.subject) = 1
