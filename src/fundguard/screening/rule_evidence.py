"""Rule-finding evidence (key ``rules``) for institutions, doctors and persons, from the audit run's findings.

Responsibility: every finding counts for its institution; for doctors and persons a finding counts with the weight
of its violation category (``DOCTOR_SHARE``, ``PERSON_WEIGHT_*``) — settling at a suspended institution is the
institution's act, lending one's card is the person's.

Institutions and doctors: the share of their encounters (and fund) flagged, against all subjects of the type
(robust z), both overall and per violation category (a category's share counts inpatient stays for the stay
categories 分解住院/挂床/无指征住院). The strength is ``1 − e^(−z/10)`` (z = 10 gives 0.63, z = 30 gives 0.95),
discounted by the number of findings behind it (``1 − e^(−n/5)``: one finding is weak evidence however large its
share) and, per category, by the category's seriousness
(``SERIOUS``: fraud-like behaviour 1.0, billing and scope errors 0.6). The strongest of these is the evidence.
Persons: ``1 − Π(1 − w_f)`` over their findings, w_f the person weight of the finding's rule or category.
"""

from __future__ import annotations

from fundguard.rules.model import VOLA_BHVR_TYPES

# vola_bhvr_type → how much of a finding is the doctor's doing (0 = not at all)
DOCTOR_SHARE = {"01": 1.0, "02": 1.0, "03": 1.0, "04": 1.0, "05": 1.0, "06": 1.0, "07": 1.0, "08": 1.0, "09": 1.0,
                "10": 0.3, "11": 0.5, "12": 0.0, "13": 0.5, "14": 0.0, "15": 0.3, "16": 1.0, "17": 0.0, "18": 1.0}
# per finding: the person's share of responsibility (rule id first, else violation category)
# (a diagnosis that does not fit the patient's sex or age is categorised 冒名/虚假就医 but is most often a coding
# matter of the institution: it weighs little on the person)
PERSON_WEIGHT_RULE = {"FG-C04": 0.6, "FG-C04D": 0.6, "GZ10000204002000": 0.4, "GZ10000204003000": 0.4,
                      "GZ10000204004000": 0.4, "GZ10000204005000": 0.25, "GZ10000301006000": 0.2,
                      "GZ10000101009000": 0.15, "GZ10000204006000": 0.1, "GZ10000204007000": 0.1}
PERSON_WEIGHT_TYPE = {"09": 0.25, "10": 0.3, "11": 0.4, "16": 0.15}
# seriousness of a violation category when it stands out on its own
SERIOUS = {"04": 1.0, "06": 1.0, "07": 1.0, "08": 1.0, "09": 1.0, "10": 1.0, "11": 0.8, "12": 1.0, "14": 1.0, "17": 1.0}
STAY_TYPES = ("07", "08", "09")


def _case(mapping: dict, col: str, default: str) -> str:
    return f"CASE {col} " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in mapping.items()) + f" ELSE {default} END"


def rule_evidence(con, audit_run_id: int | None) -> None:
    if audit_run_id is None:
        return
    pw = _case(PERSON_WEIGHT_RULE, "f.rule_id", _case(PERSON_WEIGHT_TYPE, "f.vola_bhvr_type", "0"))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rf AS
        SELECT f.rule_id, f.rule_name, f.sev_deg, f.vola_bhvr_type, f.mdtrt_id, f.psn_no, f.fixmedins_code,
               coalesce(f.bilg_dr_code, e.doc_code) AS doc_code, CAST(coalesce(f.vola_amt, 0) AS DOUBLE) AS amt,
               {pw} AS person_w, {_case(DOCTOR_SHARE, 'f.vola_bhvr_type', '0.5')} AS doctor_w
        FROM findings f LEFT JOIN sc_enc e USING (mdtrt_id)
        WHERE f.run_id = {int(audit_run_id)} AND (f.mdtrt_id IS NULL OR e.mdtrt_id IS NOT NULL)""")
    types = "CASE r.vola_bhvr_type " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in VOLA_BHVR_TYPES.items()) + " END"
    for stype, key, w in (("medins", "fixmedins_code", "1.0"), ("doctor", "doc_code", "doctor_w")):
        con.execute(f"""INSERT INTO _ev
            WITH base AS (SELECT {key} AS k, sum(fund) AS fund, count(*) AS n_enc, count(*) FILTER (WHERE ip) AS n_ip
                          FROM sc_enc WHERE {key} IS NOT NULL GROUP BY 1 HAVING count(*) >= 10),
                 fe AS (SELECT {key} AS k, mdtrt_id, coalesce(mdtrt_id, rule_id || coalesce(psn_no, '')) AS unit,
                               max(amt * {w}) AS amt, count(*) AS n, count(*) FILTER (WHERE sev_deg = 1) AS n1
                        FROM _rf WHERE {key} IS NOT NULL AND {w} > 0 GROUP BY 1, 2, 3),
                 r AS (SELECT k, sum(n) AS n, sum(n1) AS n1, sum(amt) AS amt, count(mdtrt_id) AS n_enc_f FROM fe GROUP BY 1),
                 s AS (SELECT base.k, base.fund, base.n_enc, coalesce(r.n, 0) AS n, coalesce(r.n1, 0) AS n1,
                              coalesce(r.amt, 0) AS amt, coalesce(r.n_enc_f, 0) AS n_enc_f,
                              least(1.0, coalesce(r.amt, 0) / greatest(base.fund, 1)) AS amt_share,
                              least(1.0, coalesce(r.n_enc_f, 0) / base.n_enc) AS enc_share FROM base LEFT JOIN r USING (k)),
                 st AS (SELECT median(amt_share) AS m1, median(enc_share) AS m2 FROM s),
                 md AS (SELECT median(abs(amt_share - m1)) AS d1, median(abs(enc_share - m2)) AS d2 FROM s, st),
                 z AS (SELECT s.*, (1 - exp(-greatest((amt_share - m1) / greatest(1.4826 * d1, 0.01),
                                                       (enc_share - m2) / greatest(1.4826 * d2, 0.01), 0) / 10.0))
                                   * (1 - exp(-n / 5.0)) AS s_all FROM s, st, md),
                 -- per violation category
                 tf AS (SELECT {key} AS k, r.vola_bhvr_type AS t, any_value({types}) AS tname, count(*) AS n,
                               count(DISTINCT r.mdtrt_id) AS n_enc_f
                        FROM _rf r WHERE {key} IS NOT NULL AND {w} > 0 GROUP BY 1, 2),
                 -- every subject × every category present (zero when the subject has none), so that the peer median
                 -- of a category is taken over all subjects, not only over those with findings of it
                 ts AS (SELECT b.k, c.t, coalesce(t.tname, '') AS tname, coalesce(t.n, 0) AS n,
                               least(1.0, coalesce(t.n_enc_f, 0)
                                     / greatest(CASE WHEN c.t IN {STAY_TYPES} THEN b.n_ip ELSE b.n_enc END, 1)) AS share
                        FROM base b CROSS JOIN (SELECT DISTINCT t FROM tf) c LEFT JOIN tf t ON t.k = b.k AND t.t = c.t),
                 tz AS (SELECT ts.*, (share - median(share) OVER (PARTITION BY t)) AS dev FROM ts),
                 tm AS (SELECT t, median(abs(dev)) AS mad FROM tz GROUP BY t),
                 tb AS (SELECT k, arg_max(tname, sv) AS tname, arg_max(n, sv) AS tn, arg_max(share, sv) AS tshare,
                               max(sv) AS s_type FROM (
                            SELECT tz.*, (1 - exp(-greatest(dev / greatest(1.4826 * tm.mad, 0.01), 0) / 10.0))
                                         * (1 - exp(-n / 5.0)) * {_case(SERIOUS, 'tz.t', '0.6')} AS sv
                            FROM tz JOIN tm USING (t)) GROUP BY k),
                 top AS (SELECT k, string_agg(rule_name || n || '条', '、' ORDER BY amt DESC) AS top_rules FROM (
                             SELECT {key} AS k, rule_name, count(*) AS n, sum(amt) AS amt,
                                    row_number() OVER (PARTITION BY {key} ORDER BY sum(amt) DESC, count(*) DESC) AS rk
                             FROM _rf WHERE {key} IS NOT NULL AND {w} > 0 GROUP BY 1, 2) WHERE rk <= 3 GROUP BY k)
            SELECT '{stype}', z.k, 'rules', greatest(z.s_all, coalesce(tb.s_type, 0)),
                   CASE WHEN coalesce(tb.s_type, 0) > z.s_all
                        THEN format('{{}}{{}}条，占其{{}}的{{:.1f}}%；', tb.tname, tb.tn,
                                    CASE WHEN tb.tname IN ('分解住院', '挂床住院', '无指征住院/诱导住院') THEN '住院' ELSE '就诊' END,
                                    100 * tb.tshare) ELSE '' END ||
                   format('智能审核疑点共{{}}条（明确违规{{}}条），涉及{{}}人次、占其就诊的{{:.0f}}%，违规金额{{:,.0f}}元、'
                          '占基金支付的{{:.1f}}%；主要为{{}}', z.n, z.n1, z.n_enc_f, 100 * z.enc_share, z.amt,
                          100 * z.amt_share, top.top_rules),
                   json_object('疑点数', z.n, '明确违规', z.n1, '违规金额', round(z.amt, 2), '金额占比', round(z.amt_share, 4),
                               '疑点就诊占比', round(z.enc_share, 4), '突出类别', tb.tname, '该类条数', tb.tn,
                               '该类占比', round(tb.tshare, 4))::VARCHAR
            FROM z JOIN top USING (k) LEFT JOIN tb USING (k)
            WHERE z.n > 0""")
    con.execute("""INSERT INTO _ev
        SELECT 'person', psn_no, 'rules', 1 - exp(sum(ln(1 - least(person_w, 0.95)))),
               format('智能审核疑点{}条，违规金额{:,.0f}元；主要为{}', count(*), sum(amt),
                      string_agg(DISTINCT rule_name, '、')),
               json_object('疑点数', count(*), '违规金额', round(sum(amt), 2))::VARCHAR
        FROM _rf WHERE psn_no IS NOT NULL AND person_w > 0 GROUP BY psn_no""")
