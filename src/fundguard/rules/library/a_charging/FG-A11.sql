-- Substitution (low-price code_a supplied, billed as high-price code_b): per institution and period,
-- code_b billed beyond opening stock + purchases while code_a was bought. Excess on the latest lines.
WITH pair AS (
    SELECT code_a, code_b, min(name_a) AS name_a FROM kb_relations
    WHERE rel_type = 'substitution' AND code_a IS NOT NULL AND code_b IS NOT NULL AND code_a <> code_b
    GROUP BY code_a, code_b
),
bl AS (  -- every line of a high-price item, with its period start
    SELECT l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.bkkp_sn, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_date, l.fee_ocur_time, CAST(l.cnt AS DOUBLE) AS cnt, CAST(l.pric AS DOUBLE) AS pric,
           CASE WHEN $period = '年' THEN CAST(date_trunc('year', l.fee_date) AS DATE)
                ELSE CAST(date_trunc('month', l.fee_date) AS DATE) END AS per_start
    FROM fg_line AS l
    WHERE l.hilist_code IN (SELECT code_b FROM pair)
),
purc AS (
    SELECT m.purc_id, m.fixmedins_code, m.hilist_code, m.purc_time, CAST(m.purc_time AS DATE) AS purc_date,
           CAST(m.purc_cnt AS DOUBLE) AS purc_cnt, CAST(m.finl_trns_pric AS DOUBLE) AS purc_pric,
           m.hilist_name,
           CASE WHEN $period = '年' THEN CAST(date_trunc('year', CAST(m.purc_time AS DATE)) AS DATE)
                ELSE CAST(date_trunc('month', CAST(m.purc_time AS DATE)) AS DATE) END AS per_start
    FROM medins_purc AS m
),
per AS (
    SELECT fixmedins_code, hilist_code, per_start, min(hilist_name) AS hilist_name, sum(cnt) AS billed_cnt
    FROM bl GROUP BY fixmedins_code, hilist_code, per_start
),
inv0 AS (  -- latest stocktake on or before the period start (stock at the start of that day)
    SELECT p.fixmedins_code, p.hilist_code, p.per_start, i.invdate, CAST(i.inv_cnt AS DOUBLE) AS inv_cnt
    FROM per AS p
    JOIN medins_invt AS i ON i.fixmedins_code = p.fixmedins_code AND i.hilist_code = p.hilist_code
     AND i.invdate <= p.per_start
    QUALIFY row_number() OVER (PARTITION BY p.fixmedins_code, p.hilist_code, p.per_start ORDER BY i.invdate DESC) = 1
),
base AS (
    SELECT p.*, coalesce(v.invdate, DATE '1900-01-01') AS base_date, coalesce(v.inv_cnt, 0) AS inv_cnt
    FROM per AS p
    LEFT JOIN inv0 AS v ON v.fixmedins_code = p.fixmedins_code AND v.hilist_code = p.hilist_code
     AND v.per_start = p.per_start
),
purc_b AS (
    SELECT b.fixmedins_code, b.hilist_code, b.per_start,
           sum(CASE WHEN m.purc_date < b.per_start THEN m.purc_cnt ELSE 0 END) AS purc_before,
           sum(CASE WHEN m.per_start = b.per_start THEN m.purc_cnt ELSE 0 END) AS purc_in
    FROM base AS b
    JOIN purc AS m ON m.fixmedins_code = b.fixmedins_code AND m.hilist_code = b.hilist_code
     AND m.purc_date >= b.base_date AND m.per_start <= b.per_start
    GROUP BY b.fixmedins_code, b.hilist_code, b.per_start
),
sold_b AS (  -- billed between the stocktake and the period start
    SELECT b.fixmedins_code, b.hilist_code, b.per_start, sum(x.cnt) AS sold_before
    FROM base AS b
    JOIN bl AS x ON x.fixmedins_code = b.fixmedins_code AND x.hilist_code = b.hilist_code
     AND x.fee_date >= b.base_date AND x.fee_date < b.per_start
    GROUP BY b.fixmedins_code, b.hilist_code, b.per_start
),
stock AS (
    SELECT b.fixmedins_code, b.hilist_code, b.hilist_name, b.per_start, b.billed_cnt,
           greatest(b.inv_cnt + coalesce(pb.purc_before, 0) - coalesce(sb.sold_before, 0), 0) AS opening_cnt,
           coalesce(pb.purc_in, 0) AS purc_in_cnt
    FROM base AS b
    LEFT JOIN purc_b AS pb ON pb.fixmedins_code = b.fixmedins_code AND pb.hilist_code = b.hilist_code
     AND pb.per_start = b.per_start
    LEFT JOIN sold_b AS sb ON sb.fixmedins_code = b.fixmedins_code AND sb.hilist_code = b.hilist_code
     AND sb.per_start = b.per_start
),
over_b AS (
    SELECT s.*, s.billed_cnt - s.opening_cnt - s.purc_in_cnt AS excess_cnt
    FROM stock AS s WHERE s.billed_cnt - s.opening_cnt - s.purc_in_cnt > 0
),
low AS (  -- latest purchase of a low-price counterpart up to the period end; keep the highest-priced one
    SELECT o.fixmedins_code, o.hilist_code, o.per_start, pr.code_a AS low_code,
           coalesce(pr.name_a, m.hilist_name, pr.code_a) AS low_name, m.purc_pric AS low_pric
    FROM over_b AS o
    JOIN pair AS pr ON pr.code_b = o.hilist_code
    JOIN purc AS m ON m.fixmedins_code = o.fixmedins_code AND m.hilist_code = pr.code_a
     AND m.per_start <= o.per_start AND m.purc_cnt > 0
    QUALIFY row_number() OVER (PARTITION BY o.fixmedins_code, o.hilist_code, o.per_start, pr.code_a
                               ORDER BY m.purc_time DESC, m.purc_id DESC) = 1
),
low1 AS (
    SELECT * FROM low
    QUALIFY row_number() OVER (PARTITION BY fixmedins_code, hilist_code, per_start
                               ORDER BY coalesce(low_pric, 0) DESC, low_code) = 1
),
pos AS (  -- positive lines of the period, cumulative count from the latest line backwards
    SELECT x.*, o.billed_cnt, o.opening_cnt, o.purc_in_cnt, o.excess_cnt, w.low_code, w.low_name, w.low_pric,
           sum(x.cnt) OVER (PARTITION BY x.fixmedins_code, x.hilist_code, x.per_start
                            ORDER BY x.fee_ocur_time DESC, x.bkkp_sn DESC
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS later_cnt
    FROM bl AS x
    JOIN over_b AS o ON o.fixmedins_code = x.fixmedins_code AND o.hilist_code = x.hilist_code
     AND o.per_start = x.per_start
    JOIN low1 AS w ON w.fixmedins_code = x.fixmedins_code AND w.hilist_code = x.hilist_code
     AND w.per_start = x.per_start
    WHERE x.cnt > 0
),
hit AS (
    SELECT p.*, least(p.cnt, p.excess_cnt - (p.later_cnt - p.cnt)) AS line_excess,
           CASE WHEN p.low_pric IS NULL THEN p.pric ELSE p.pric - p.low_pric END AS unit_loss
    FROM pos AS p
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       CASE WHEN $period = '年' THEN CAST(year(per_start) AS VARCHAR) || '年'
            ELSE CAST(year(per_start) AS VARCHAR) || '年' || CAST(month(per_start) AS VARCHAR) || '月' END AS period_label,
       CAST(per_start AS VARCHAR) || '|' || hilist_code AS grp,
       billed_cnt, opening_cnt, purc_in_cnt, excess_cnt, low_code, low_name, low_pric, pric, line_excess,
       line_excess * unit_loss AS vola_fee
FROM hit
WHERE line_excess > 0 AND unit_loss > 0
