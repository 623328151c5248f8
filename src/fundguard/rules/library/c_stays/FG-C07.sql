-- 超诊疗范围: fee lines of a 诊疗科目 that is not among the institution's approved subjects (medins_info.prac_scope,
-- ';'-separated; an approved entry covers the subject when it starts with the subject code). The subject of a line is
--   (1) the subject its service item requires (kb_relations item_subject: item code_a needs subject code_b), or
--   (2) the subject of the billing department (first 3 characters of bilg_dept_codg: a letter and two digits).
-- Institutions without prac_scope are skipped; a line both checks flag is reported once (the item's subject first).
-- The scope test runs once per (institution, item) and (institution, department), not once per line.
WITH scope AS (
    SELECT fixmedins_code, min(prac_scope) AS prac_scope,
           min(coalesce(fixmedins_name, fixmedins_code)) AS medins_name,
           ';' || upper(replace(replace(replace(replace(min(prac_scope), ' ', ''), ',', ';'), '，', ';'), '、', ';'))
               || ';' AS scope_list
    FROM fg_enc
    WHERE prac_scope IS NOT NULL AND trim(prac_scope) <> ''
    GROUP BY fixmedins_code
),
inst_item AS (  -- (institution, item) pairs charged whose item requires a subject (looked up per item code)
    SELECT DISTINCT l.fixmedins_code, l.hilist_code FROM fg_line AS l
    WHERE EXISTS (SELECT 1 FROM kb_relations AS r WHERE r.rel_type = 'item_subject' AND r.code_a = l.hilist_code)
),
item_subj AS (  -- the subjects of those items only (the relation table may list every national item)
    SELECT code_a AS hilist_code, upper(trim(code_b)) AS subject, min(name_b) AS subject_name
    FROM kb_relations
    WHERE rel_type = 'item_subject' AND code_a IN (SELECT hilist_code FROM inst_item)
      AND code_b IS NOT NULL AND trim(code_b) <> ''
    GROUP BY code_a, upper(trim(code_b))
),
bad_item AS (
    SELECT i.fixmedins_code, i.hilist_code, s.subject, 1 AS basis_rank,
           '项目须具备诊疗科目 ' || s.subject || coalesce('（' || s.subject_name || '）', '') AS basis_text
    FROM inst_item AS i
    JOIN scope AS c ON c.fixmedins_code = i.fixmedins_code
    JOIN item_subj AS s ON s.hilist_code = i.hilist_code
    WHERE NOT (c.scope_list LIKE '%;' || s.subject || '%')
),
inst_dept AS (
    SELECT DISTINCT fixmedins_code, bilg_dept_codg, upper(substr(bilg_dept_codg, 1, 3)) AS subject FROM fg_line
    WHERE length(bilg_dept_codg) >= 3
      AND upper(substr(bilg_dept_codg, 1, 1)) BETWEEN 'A' AND 'Z'
      AND substr(bilg_dept_codg, 2, 1) BETWEEN '0' AND '9'
      AND substr(bilg_dept_codg, 3, 1) BETWEEN '0' AND '9'
),
bad_dept AS (
    SELECT d.fixmedins_code, d.bilg_dept_codg, d.subject
    FROM inst_dept AS d
    JOIN scope AS c ON c.fixmedins_code = d.fixmedins_code
    WHERE NOT (c.scope_list LIKE '%;' || d.subject || '%')
),
cand AS (
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.bilg_dept_codg, coalesce(l.bilg_dept_name, l.bilg_dept_codg) AS dept_name,
           b.subject, b.basis_rank, b.basis_text
    FROM fg_line AS l
    JOIN bad_item AS b ON b.fixmedins_code = l.fixmedins_code AND b.hilist_code = l.hilist_code
    UNION ALL
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.bilg_dept_codg, coalesce(l.bilg_dept_name, l.bilg_dept_codg) AS dept_name,
           b.subject, 2 AS basis_rank,
           '开单科室 ' || coalesce(l.bilg_dept_name, l.bilg_dept_codg) || '（' || l.bilg_dept_codg || '）属诊疗科目 '
               || b.subject AS basis_text
    FROM fg_line AS l
    JOIN bad_dept AS b ON b.fixmedins_code = l.fixmedins_code AND b.bilg_dept_codg = l.bilg_dept_codg
)
SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.bkkp_sn, c.hilist_code, c.hilist_name, c.bilg_dr_code,
       c.subject AS grp, c.subject, c.basis_text, c.bilg_dept_codg, c.dept_name, s.prac_scope, s.medins_name,
       c.fee_date
FROM cand AS c
JOIN scope AS s ON s.fixmedins_code = c.fixmedins_code
QUALIFY row_number() OVER (PARTITION BY c.bkkp_sn ORDER BY c.basis_rank, c.subject) = 1
