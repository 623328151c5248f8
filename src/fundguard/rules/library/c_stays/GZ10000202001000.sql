-- 进销存异常 (drugs or consumables, per $list_types / $chrgitm_types): per institution, item and period of $period_months calendar month(s), the quantity sold since the
-- anchor (latest stock count at or before the period start; without one, 1 January of that year with stock 0)
-- above opening stock + purchases from the anchor to the period end. The excess is allocated to the latest
-- lines of the period; vola_fee = excess quantity x price. Only items with a purchase or stock record.
WITH known AS (
    SELECT p.fixmedins_code, p.hilist_code FROM medins_purc AS p
    UNION
    SELECT i.fixmedins_code, i.hilist_code FROM medins_invt AS i
),
sale AS NOT MATERIALIZED (  -- the lines of the listed kinds; read twice (daily sums, lines of flagged items)
    SELECT l.bkkp_sn, l.fixmedins_code, l.hilist_code, l.hilist_name, l.fee_ocur_time, l.fee_date,
           CAST(l.cnt AS DOUBLE) AS cnt, CAST(l.pric AS DOUBLE) AS pric,
           CAST(floor((year(l.fee_date) * 12 + month(l.fee_date) - 1) / $period_months) AS INTEGER)
               * $period_months AS pmk
    FROM fg_line AS l
    WHERE l.cnt IS NOT NULL
      AND CASE WHEN coalesce(l.list_type, '') <> ''
               THEN ';' || $list_types || ';' LIKE '%;' || l.list_type || ';%'
               ELSE ';' || $chrgitm_types || ';' LIKE '%;' || coalesce(l.med_chrgitm_type, '#') || ';%' END
),
daily AS (  -- quantity per institution, item and day: the period sums below read days, not lines
    SELECT fixmedins_code, hilist_code, fee_date, pmk, sum(cnt) AS qty
    FROM sale AS s
    WHERE EXISTS (SELECT 1 FROM known AS k WHERE k.fixmedins_code = s.fixmedins_code AND k.hilist_code = s.hilist_code)
    GROUP BY fixmedins_code, hilist_code, fee_date, pmk
),
per AS (  -- pmk: month key (year * 12 + month - 1) of the period start
    SELECT s.fixmedins_code, s.hilist_code, s.pmk, sum(s.qty) AS period_sold,
           make_date(CAST(floor(s.pmk / 12) AS INTEGER), CAST(s.pmk % 12 AS INTEGER) + 1, 1) AS period_start
    FROM daily AS s
    GROUP BY s.fixmedins_code, s.hilist_code, s.pmk
),
cum AS (  -- quantity sold through each period end, since the first line
    SELECT p.fixmedins_code, p.hilist_code, p.pmk, p.period_start,
           sum(p.period_sold) OVER (PARTITION BY p.fixmedins_code, p.hilist_code ORDER BY p.pmk
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_end
    FROM per AS p
),
anchor AS (
    SELECT c.fixmedins_code, c.hilist_code, c.pmk, c.period_start, c.run_end, i.invdate,
           coalesce(i.invdate, make_date(year(c.period_start), 1, 1)) AS anchor_date,
           coalesce(CAST(i.inv_cnt AS DOUBLE), 0) AS open_qty,
           row_number() OVER (PARTITION BY c.fixmedins_code, c.hilist_code, c.pmk ORDER BY i.invdate DESC) AS rn
    FROM cum AS c
    LEFT JOIN medins_invt AS i ON i.fixmedins_code = c.fixmedins_code AND i.hilist_code = c.hilist_code
     AND i.invdate <= c.period_start
),
purc AS (  -- purchases from the anchor to the period end
    SELECT a.fixmedins_code, a.hilist_code, a.pmk, coalesce(sum(CAST(u.purc_cnt AS DOUBLE)), 0) AS purc_qty
    FROM anchor AS a
    LEFT JOIN medins_purc AS u ON u.fixmedins_code = a.fixmedins_code AND u.hilist_code = a.hilist_code
     AND CAST(u.purc_time AS DATE) >= a.anchor_date
     AND year(u.purc_time) * 12 + month(u.purc_time) - 1 < a.pmk + $period_months
    WHERE a.rn = 1
    GROUP BY a.fixmedins_code, a.hilist_code, a.pmk
),
anchors AS (  -- the distinct anchors of an item (a stock-count date or 1 January): a few per item, not per period
    SELECT DISTINCT fixmedins_code, hilist_code, anchor_date FROM anchor WHERE rn = 1
),
sold_before AS (  -- quantity sold before each anchor
    SELECT a.fixmedins_code, a.hilist_code, a.anchor_date, coalesce(sum(s.qty), 0) AS sold_before
    FROM anchors AS a
    LEFT JOIN daily AS s ON s.fixmedins_code = a.fixmedins_code AND s.hilist_code = a.hilist_code
     AND s.fee_date < a.anchor_date
    GROUP BY a.fixmedins_code, a.hilist_code, a.anchor_date
),
before AS (  -- quantity sold before the anchor of each period
    SELECT a.fixmedins_code, a.hilist_code, a.pmk, b.sold_before
    FROM anchor AS a
    JOIN sold_before AS b ON b.fixmedins_code = a.fixmedins_code AND b.hilist_code = a.hilist_code
     AND b.anchor_date = a.anchor_date
    WHERE a.rn = 1
),
period AS (
    SELECT a.fixmedins_code, a.hilist_code, a.pmk, a.period_start, a.anchor_date, a.invdate, a.open_qty,
           p.purc_qty, b.sold_before, a.run_end - b.sold_before AS sold_qty,
           a.open_qty + p.purc_qty AS avail_qty,
           a.run_end - b.sold_before - a.open_qty - p.purc_qty AS excess_qty
    FROM anchor AS a
    JOIN purc AS p ON p.fixmedins_code = a.fixmedins_code AND p.hilist_code = a.hilist_code AND p.pmk = a.pmk
    JOIN before AS b ON b.fixmedins_code = a.fixmedins_code AND b.hilist_code = a.hilist_code AND b.pmk = a.pmk
    WHERE a.rn = 1
),
flagged AS (  -- only items with an excess in some period need their lines ordered
    SELECT DISTINCT fixmedins_code, hilist_code FROM period WHERE excess_qty > 0
),
lines AS (  -- run_qty: quantity sold since the first line through this line
    SELECT s.bkkp_sn, s.fixmedins_code, s.hilist_code, s.hilist_name, s.cnt, s.pric,
           sum(s.cnt) OVER (PARTITION BY s.fixmedins_code, s.hilist_code ORDER BY s.fee_ocur_time, s.bkkp_sn
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_qty,
           s.pmk
    FROM sale AS s
    JOIN flagged AS f ON f.fixmedins_code = s.fixmedins_code AND f.hilist_code = s.hilist_code
)
SELECT CAST(NULL AS VARCHAR) AS mdtrt_id, CAST(NULL AS VARCHAR) AS psn_no, x.fixmedins_code, x.bkkp_sn,
       x.hilist_code, x.hilist_name, x.hilist_code || ' ' || strftime(p.period_start, '%Y-%m') AS grp,
       least(x.cnt, x.run_qty - p.sold_before - p.avail_qty, p.excess_qty) * x.pric AS vola_fee,
       strftime(p.period_start, '%Y-%m') AS period_label, p.anchor_date,
       CASE WHEN p.invdate IS NULL THEN '无盘存记录，自当年 1 月 1 日按 0 起算'
            ELSE '盘存日 ' || CAST(p.invdate AS VARCHAR) END AS open_desc,
       coalesce(m.fixmedins_name, x.fixmedins_code) AS medins_name,
       p.open_qty, p.purc_qty, p.avail_qty, p.sold_qty, p.excess_qty
FROM lines AS x
JOIN period AS p ON p.fixmedins_code = x.fixmedins_code AND p.hilist_code = x.hilist_code AND p.pmk = x.pmk
LEFT JOIN medins_info AS m ON m.fixmedins_code = x.fixmedins_code
WHERE p.excess_qty > 0 AND x.cnt > 0 AND x.run_qty - p.sold_before - p.avail_qty > 0
