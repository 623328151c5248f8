-- 为非定点或中止协议机构结算: a settlement (setl_time; without a settlement the encounter's end date) at an
-- institution missing from medins_info (only when medins_info has rows), or dated outside the institution's
-- agreement period [agreement_begn_date, agreement_end_date]. A stay admitted within the period and
-- settled after its end is tolerated. One finding per encounter.
WITH info AS (  -- 1 when medins_info has rows (one row read, not a count of the whole list)
    SELECT count(*) AS n_info FROM (SELECT 1 AS one FROM medins_info LIMIT 1) AS any_info
),
st AS (
    SELECT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.begn_date, s.setl_id,
           CASE WHEN e.med_type LIKE '2%' OR e.med_type = '52' THEN 1 ELSE 0 END AS is_ipt,
           coalesce(CAST(s.setl_time AS DATE), e.end_date) AS setl_date
    FROM fg_enc AS e
    LEFT JOIN fg_setl AS s ON s.mdtrt_id = e.mdtrt_id
),
chk AS (
    SELECT t.mdtrt_id, t.psn_no, t.fixmedins_code, t.setl_id, t.setl_date, t.begn_date,
           coalesce(m.fixmedins_name, t.fixmedins_code) AS medins_name, m.agreement_status,
           m.agreement_begn_date, m.agreement_end_date,
           CASE WHEN m.fixmedins_code IS NULL THEN '该机构不在定点医药机构名单中（非定点）'
                WHEN t.setl_date < m.agreement_begn_date
                    THEN '早于医保协议开始日期 ' || CAST(m.agreement_begn_date AS VARCHAR) || '（尚未定点）'
                WHEN t.setl_date > m.agreement_end_date AND NOT (t.is_ipt = 1 AND t.begn_date <= m.agreement_end_date
                                                                 AND t.begn_date >= coalesce(m.agreement_begn_date, t.begn_date))
                    THEN '医保协议已于 ' || CAST(m.agreement_end_date AS VARCHAR)
                         || CASE m.agreement_status WHEN '3' THEN ' 终止（协议已解除）'
                                                    WHEN '2' THEN ' 终止（协议暂停）' ELSE ' 到期' END
           END AS reason
    FROM st AS t
    CROSS JOIN info AS i
    LEFT JOIN medins_info AS m ON m.fixmedins_code = t.fixmedins_code
    WHERE i.n_info > 0
),
ranked AS (
    SELECT c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.setl_date, c.medins_name, c.agreement_status,
           c.agreement_begn_date, c.agreement_end_date, c.reason,
           row_number() OVER (PARTITION BY c.mdtrt_id ORDER BY c.setl_date, c.setl_id) AS rn
    FROM chk AS c
    WHERE c.reason IS NOT NULL
)
SELECT r.mdtrt_id, r.psn_no, r.fixmedins_code, r.setl_id, r.setl_date, r.medins_name, r.agreement_status,
       r.agreement_begn_date, r.agreement_end_date, r.reason
FROM ranked AS r
JOIN fg_enc_amt AS a ON a.mdtrt_id = r.mdtrt_id  -- paid by the fund (one row per encounter): checked for the
WHERE r.rn = 1 AND a.enc_fund > 0                -- encounters found only
