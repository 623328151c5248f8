-- Herbs of the 单方-not-payable class paid by the fund in a prescription made only of such herbs
-- (a single herb alone included). Prescription = rx_drord_no, else the encounter-day.
-- Herb lines: list_type 102 or a 'T' code. Herbs of other classes count as ordinary herbs.
WITH herb AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.inscp,
           coalesce(l.rx_drord_no, CAST(l.fee_date AS VARCHAR)) AS rx_key
    FROM fg_line AS l
    WHERE l.list_type = '102' OR substr(l.hilist_code, 1, 1) = 'T'
),
pt AS (  -- herb lines of a listed herb (from the lines themselves: each is looked up in the knowledge base)
    SELECT l.bkkp_sn, k.kp_id
    FROM fg_line AS l
    JOIN fg_kb AS k ON k.hilist_code = l.hilist_code AND k.rule_class = '中药饮片单方使用不予支付'
    WHERE (l.list_type = '102' OR substr(l.hilist_code, 1, 1) = 'T')
      AND l.fee_date BETWEEN k.eff_from AND k.eff_to
),
pt_line AS (
    SELECT DISTINCT bkkp_sn FROM pt
),
rx AS (
    SELECT h.mdtrt_id, h.rx_key, count(*) AS herb_cnt,
           sum(CASE WHEN p.bkkp_sn IS NULL THEN 1 ELSE 0 END) AS other_cnt
    FROM herb AS h
    LEFT JOIN pt_line AS p ON p.bkkp_sn = h.bkkp_sn
    GROUP BY h.mdtrt_id, h.rx_key
)
SELECT h.mdtrt_id, h.psn_no, h.fixmedins_code, h.setl_id, h.bkkp_sn, h.hilist_code, h.hilist_name,
       h.bilg_dr_code, p.kp_id, h.rx_key AS grp, h.rx_key, h.fee_date, r.herb_cnt,
       CASE WHEN r.herb_cnt = 1 THEN '单味使用'
            ELSE '所在处方 ' || CAST(r.herb_cnt AS VARCHAR) || ' 味饮片均为单方使用不予支付的饮片' END AS rx_text
FROM herb AS h
JOIN pt AS p ON p.bkkp_sn = h.bkkp_sn
JOIN rx AS r ON r.mdtrt_id = h.mdtrt_id AND r.rx_key = h.rx_key
WHERE r.other_cnt = 0 AND h.inscp > 0
