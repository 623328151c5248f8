-- A person's outpatient / pharmacy drug line (med_type 11, 14…, 41, 9901) issued while an earlier supply of
-- the same drug (same first $generic_len code characters; same code included) from another encounter, at any
-- institution, still lasts more than $tolerance_days days (earlier fee_date + prd_days − this fee_date).
-- The later line violates; violating part = fee × overlap / its prd_days, capped at the fee.
WITH rx AS NOT MATERIALIZED (  -- read twice (current and earlier lines): scanning beats materialising
    SELECT l.bkkp_sn, l.mdtrt_id, l.psn_no, l.fixmedins_code, l.setl_id, l.hilist_code, l.hilist_name,
           l.bilg_dr_code, l.fee_ocur_time, l.fee_date, l.fee, l.inscp,
           CAST(l.prd_days AS DOUBLE) AS prd_days, substr(l.hilist_code, 1, $generic_len) AS generic
    FROM fg_line AS l
    WHERE (l.med_type LIKE '14%' OR l.med_type IN ('11', '41', '9901'))
      AND substr(l.hilist_code, 1, 1) IN ('X', 'Z')
),
pair AS (
    SELECT c.bkkp_sn, c.mdtrt_id, c.psn_no, c.fixmedins_code, c.setl_id, c.hilist_code, c.hilist_name,
           c.bilg_dr_code, c.fee_date, c.fee, c.prd_days,
           p.mdtrt_id AS prev_mdtrt_id, p.fixmedins_code AS prev_fixmedins_code, p.hilist_code AS prev_hilist_code,
           p.fee_date AS prev_fee_date, p.prd_days AS prev_prd_days,
           p.prd_days - date_diff('day', p.fee_date, c.fee_date) AS overlap_days
    FROM rx AS c
    JOIN rx AS p ON p.psn_no = c.psn_no AND p.generic = c.generic AND p.mdtrt_id <> c.mdtrt_id
    WHERE c.inscp > 0
      AND p.prd_days > $tolerance_days  -- overlap ≤ prd_days: shorter supplies cannot exceed the tolerance
      AND (p.fee_ocur_time < c.fee_ocur_time OR (p.fee_ocur_time = c.fee_ocur_time AND p.mdtrt_id < c.mdtrt_id))
      AND p.prd_days - date_diff('day', p.fee_date, c.fee_date) > $tolerance_days
    QUALIFY row_number() OVER (PARTITION BY c.bkkp_sn
                               ORDER BY p.prd_days - date_diff('day', p.fee_date, c.fee_date) DESC,
                                        p.fee_ocur_time, p.mdtrt_id, p.bkkp_sn) = 1
)
SELECT mdtrt_id, psn_no, fixmedins_code, setl_id, bkkp_sn, hilist_code, hilist_name, bilg_dr_code,
       hilist_code AS grp, fee_date, prd_days, prev_mdtrt_id, prev_fixmedins_code, prev_hilist_code,
       prev_fee_date, prev_prd_days, overlap_days,
       CASE WHEN prd_days IS NULL OR prd_days <= 0 OR overlap_days >= prd_days THEN CAST(fee AS DOUBLE)
            ELSE CAST(fee AS DOUBLE) * overlap_days / prd_days END AS vola_fee
FROM pair
