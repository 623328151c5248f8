"""Admission screens on persons and their institutions: S01 高频住院, S04 重点人群轻症住院, S05 本院职工本院住院,
S06 同一机构多次住院. Each writes hits (see registry.py for the parameters) and encounter flags."""

from __future__ import annotations

import math

from fundguard.screening.context import Ctx

IDET_NAMES = "CASE e.idet WHEN '01' THEN '低保对象' WHEN '02' THEN '特困人员' WHEN '03' THEN '五保户' " \
             "WHEN '04' THEN '建档立卡/监测对象' ELSE '特殊人群' END"


def _scaled(ctx: Ctx, n: int) -> int:
    """A per-year count threshold scaled to the period (never below 2)."""
    return max(2, math.ceil(n * min(1.0, ctx.year_fraction) - 1e-9))


def s01_high_frequency(ctx: Ctx) -> None:
    p = ctx.p("S01")
    t = _scaled(ctx, p["min_admissions"])
    full = max(t + 1, _scaled(ctx, p["full_at"]))
    ctx.add_hits("S01", f"""
        WITH a AS (SELECT psn_no, count(*) AS n, count(DISTINCT fixmedins_code) AS k, sum(los) AS days,
                          sum(fund) AS fund
                   FROM sc_enc WHERE ip AND NOT planned GROUP BY psn_no)
        SELECT 'person' AS subject_type, psn_no AS subject_id, NULL AS subject_name, NULL AS fixmedins_code,
               0.5 + 0.5 * least(1.0, (n - {t}) / {full - t}) AS strength, n AS metric,
               json_object('住院次数', n, '机构数', k, '住院天数', days, '基金支付', round(fund, 2), '阈值', {t})::VARCHAR
                   AS metrics,
               format('期间住院{{}}次（阈值{{}}次，不含计划性治疗），涉及{{}}家机构，累计住院{{}}天', n, {t}, k, days) AS reason
        FROM a WHERE n >= {t}""")


def s04_key_groups(ctx: Ctx) -> None:
    p = ctx.p("S04")
    age = int(p["elderly_age"])
    key = f"e.ip AND e.light AND (e.idet IS NOT NULL OR e.age >= {age})"
    ctx.flag("key_light", f"SELECT e.mdtrt_id FROM sc_enc e WHERE {key}")
    ctx.add_hits("S04", f"""
        WITH a AS (SELECT e.psn_no, count(*) AS n, any_value(e.idet) AS idet, max(e.age) AS age,
                          string_agg(DISTINCT e.main_dx, '、') AS dx, any_value({IDET_NAMES}) AS idet_name
                   FROM sc_enc e WHERE {key} GROUP BY e.psn_no)
        SELECT 'person', psn_no, NULL, NULL, least(1.0, n / 3.0), n,
               json_object('轻症住院次数', n, '人群', coalesce(idet_name, '老年人'), '年龄', age, '诊断', dx)::VARCHAR,
               format('{{}}（{{}}岁）以轻症诊断住院{{}}次（{{}}）',
                      CASE WHEN idet IS NOT NULL THEN idet_name ELSE '老年人' END, age, n, dx)
        FROM a""")
    # institutions: share of key-group light stays against all hospitals with enough stays (robust z)
    ctx.add_hits("S04", f"""
        WITH a AS (SELECT e.fixmedins_code, count(*) AS n_ip, count(*) FILTER (WHERE {key}) AS n_key,
                          count(*) FILTER (WHERE {key} AND e.idet IS NOT NULL) AS n_idet
                   FROM sc_enc e WHERE e.ip GROUP BY 1 HAVING count(*) >= {int(p['min_stays'])}),
             s AS (SELECT *, n_key / n_ip AS share FROM a),
             st AS (SELECT median(share) AS med FROM s),
             md AS (SELECT median(abs(share - st.med)) AS mad FROM s, st),
             z AS (SELECT s.*, (share - med) / greatest(1.4826 * mad, 0.02) AS z FROM s, st, md)
        SELECT 'medins', fixmedins_code, NULL, fixmedins_code,
               least(1.0, (z - {p['z_min']}) / (2 * {p['z_min']})), share,
               json_object('住院人次', n_ip, '重点人群轻症住院', n_key, '其中特殊人群', n_idet, '占比', round(share, 4),
                           '稳健z', round(z, 2))::VARCHAR,
               format('重点人群（特殊人群或{age}岁以上）轻症住院{{}}人次，占全部住院的{{:.0f}}%（同类机构中位数约{{:.0f}}%），'
                      '其中低保、特困等特殊人群{{}}人次', n_key, share * 100, (SELECT med FROM st) * 100, n_idet)
        FROM z WHERE z >= {p['z_min']} AND share >= {p['min_share']}""")
    ctx.add_hits("S04", f"""
        SELECT 'medins', i.subject_id, NULL, i.subject_id, least(1.0, (i.robust_z - 3) / 6.0), i.value,
               json_object('眼科日间手术人次', i.value, '同类中位数', i.peer_median, '稳健z', round(i.robust_z, 2))::VARCHAR,
               format('眼科日间手术{{}}人次，为同类机构中位数（{{}}）的{{:.1f}}倍', CAST(i.value AS INTEGER),
                      CAST(i.peer_median AS INTEGER), i.value / greatest(i.peer_median, 1))
        FROM screen_indicators i
        WHERE i.run_id = {ctx.run_id} AND i.subject_type = 'medins' AND i.indicator = 'IP11' AND i.robust_z >= 3
          AND i.pct_rank >= 0.9 AND i.comparable""")


def s05_staff_own(ctx: Ctx) -> None:
    t = _scaled(ctx, ctx.p("S05")["min_stays"])
    ctx.con.execute("""CREATE OR REPLACE TEMP TABLE _s05 AS
        SELECT e.psn_no, e.fixmedins_code, count(*) AS n, sum(e.fund) AS fund, string_agg(DISTINCT e.main_dx, '、') AS dx
        FROM sc_enc e WHERE e.ip AND e.staff_own GROUP BY ALL""")
    ctx.flag("staff_own", f"SELECT e.mdtrt_id FROM sc_enc e JOIN _s05 s USING (psn_no, fixmedins_code) WHERE s.n >= {t} AND e.ip")
    ctx.add_hits("S05", f"""
        SELECT 'person', s.psn_no, NULL, s.fixmedins_code,
               CASE WHEN s.n >= {t} THEN least(1.0, 0.6 + 0.2 * (s.n - {t})) ELSE 0.15 END, s.n,
               json_object('本院住院次数', s.n, '机构', m.fixmedins_name, '基金支付', round(s.fund, 2), '诊断', s.dx)::VARCHAR,
               format('本院职工在本院（{{}}）住院{{}}次（{{}}）', m.fixmedins_name, s.n, s.dx)
        FROM _s05 s JOIN sc_medins m USING (fixmedins_code)""")
    ctx.add_hits("S05", f"""
        SELECT 'medins', fixmedins_code, NULL, fixmedins_code, least(1.0, k / 3.0), k,
               json_object('多次本院住院的职工', k, '住院人次', n, '基金支付', round(fund, 2))::VARCHAR,
               format('{{}}名本院职工一年内多次在本院住院，共{{}}人次，基金支付{{:.0f}}元', k, n, fund)
        FROM (SELECT fixmedins_code, count(*) AS k, sum(n) AS n, sum(fund) AS fund FROM _s05 WHERE n >= {t} GROUP BY 1)""")


def s06_repeat_institution(ctx: Ctx) -> None:
    p = ctx.p("S06")
    t = _scaled(ctx, p["min_stays"])
    full = max(t + 1, _scaled(ctx, p["full_at"]))
    ctx.con.execute(f"""CREATE OR REPLACE TEMP TABLE _s06 AS
        SELECT psn_no, fixmedins_code, count(*) AS n, sum(fund) AS fund, string_agg(DISTINCT main_dx, '、') AS dx
        FROM sc_enc WHERE ip AND NOT planned GROUP BY ALL HAVING count(*) >= {t}""")
    ctx.flag("repeat_inst", "SELECT e.mdtrt_id FROM sc_enc e JOIN _s06 s USING (psn_no, fixmedins_code) "
                            "WHERE e.ip AND NOT e.planned")
    ctx.add_hits("S06", f"""
        SELECT 'person', psn_no, NULL, fixmedins_code, strength, n, metrics, reason FROM (
            SELECT s.psn_no, s.fixmedins_code, s.n, least(1.0, 0.4 + 0.6 * (s.n - {t}) / {full - t}) AS strength,
                   json_object('同一机构住院次数', s.n, '机构', m.fixmedins_name, '基金支付', round(s.fund, 2),
                               '诊断', s.dx)::VARCHAR AS metrics,
                   format('一年内在{{}}住院{{}}次（{{}}）', m.fixmedins_name, s.n, s.dx) AS reason,
                   row_number() OVER (PARTITION BY s.psn_no ORDER BY s.n DESC, s.fixmedins_code) AS rk
            FROM _s06 s JOIN sc_medins m USING (fixmedins_code)) WHERE rk = 1""")
    ctx.add_hits("S06", f"""
        WITH a AS (SELECT e.fixmedins_code, count(*) AS n_ip,
                          count(*) FILTER (WHERE s.psn_no IS NOT NULL) AS n_rep, count(DISTINCT s.psn_no) AS k
                   FROM sc_enc e LEFT JOIN _s06 s USING (psn_no, fixmedins_code)
                   WHERE e.ip AND NOT e.planned GROUP BY 1 HAVING count(*) >= 10),
             s AS (SELECT *, n_rep / n_ip AS share FROM a),
             st AS (SELECT median(share) AS med FROM s),
             md AS (SELECT median(abs(share - st.med)) AS mad FROM s, st),
             z AS (SELECT s.*, (share - med) / greatest(1.4826 * mad, 0.02) AS z FROM s, st, md)
        SELECT 'medins', fixmedins_code, NULL, fixmedins_code, least(1.0, (z - 3) / 6.0) * (1 - exp(-k / 3.0)), share,
               json_object('住院人次', n_ip, '多次住院人员', k, '其住院人次', n_rep, '占比', round(share, 4),
                           '稳健z', round(z, 2))::VARCHAR,
               format('{{}}名参保人一年内在本机构住院{{}}次以上，共{{}}人次，占本机构住院的{{:.0f}}%', k, {t}, n_rep, share * 100)
        FROM z WHERE z >= 3 AND share >= 0.1""")
