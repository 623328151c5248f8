"""Time and amount screens: S02 入院时间集中 (bursts by day and week), S03 出院结算金额接近 (template amounts),
S11 短期再入院, and S12 医师经治可疑住院集中 (the doctor view of the encounter flags of every screen)."""

from __future__ import annotations

import json
import math

import numpy as np

from fundguard.screening.context import Ctx

FLAG_NAMES = {"burst": "入院高峰日入院", "amount_spike": "模板化金额", "key_light": "重点人群轻症住院",
              "repeat_inst": "同一机构多次住院", "village_event": "同村同期入院", "household_event": "同户同期入院",
              "staff_own": "本院职工本院住院", "readmit": "短期再入院"}


def _poisson_sf(n: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """P(X ≥ n) for X ~ Poisson(lam)."""
    from scipy.stats import poisson

    return poisson.sf(n - 1, lam)


def _bursts(counts: np.ndarray, weights: np.ndarray, half: int, min_n: int, p_max: float):
    """Burst cells of an (institutions × periods) count matrix against a rolling baseline of ±half periods.

    A first pass against the rolling *median* finds candidate cells; the baseline is then the rolling *mean* of the
    other cells, with candidates and bursts already found replaced by their expectation, recomputed until nothing new
    is found — a regular pattern of bursts (every other Monday) does not hide itself in its own baseline, and a busy
    but steady institution keeps its mean."""
    n = counts.astype(float)
    w = np.maximum(weights, 1e-9)
    periods = n.shape[1]
    from numpy.lib.stride_tricks import sliding_window_view

    pad = np.pad(n / w[None, :], ((0, 0), (half, half)), constant_values=np.nan)
    win = sliding_window_view(pad, 2 * half + 1, axis=1).copy()
    win[:, :, half] = np.nan                                              # not the cell itself
    med = np.nan_to_num(np.nanmedian(win, axis=2))
    expected = np.maximum(med * w[None, :], 0.05)
    cand = n >= min_n
    p = np.ones_like(n)
    p[cand] = _poisson_sf(n[cand], expected[cand])
    excl = cand & (p < p_max)
    cw = np.concatenate([[0.0], np.cumsum(w)])
    idx = np.arange(periods)
    lo, hi = np.clip(idx - half, 0, periods), np.clip(idx + half + 1, 0, periods)
    around_w = (cw[hi] - cw[lo] - w)[None, :]
    burst = np.zeros(n.shape, bool)
    for _ in range(12):
        base = np.where(excl, expected, n)
        cs = np.concatenate([np.zeros((n.shape[0], 1)), np.cumsum(base, axis=1)], axis=1)
        around = cs[:, hi] - cs[:, lo] - base
        expected = np.maximum(around / np.maximum(around_w, 1e-9) * w[None, :], 0.05)
        p = np.ones_like(n)
        p[cand] = _poisson_sf(n[cand], expected[cand])
        found = cand & (p < p_max)
        if np.array_equal(found, burst):
            break
        burst = found
        excl = excl | found
    return burst, expected, p


def _weekday_factors(counts: np.ndarray, dow: np.ndarray) -> np.ndarray:
    """Admissions by weekday relative to the mean: the median over institutions with enough admissions of each one's
    own weekday profile (an institution that admits only on Mondays does not make Monday look normal)."""
    big = counts[counts.sum(axis=1) >= 50]
    if not len(big):
        big = counts
    per = np.stack([np.bincount(dow, weights=row, minlength=7) / np.maximum(np.bincount(dow, minlength=7), 1)
                    for row in big])
    per = per / np.maximum(per.mean(axis=1, keepdims=True), 1e-9)
    wf = np.median(per, axis=0)
    return wf / wf.mean() if wf.mean() > 0 else np.ones(7)


def s02_bursts(ctx: Ctx) -> None:
    con, p = ctx.con, ctx.p("S02")
    b, e = ctx.period.begin, ctx.period.end
    rows = con.execute(f"""SELECT fixmedins_code, begn_date, count(*) FROM sc_enc WHERE ip AND fixmedins_code IN (
                               SELECT fixmedins_code FROM sc_enc WHERE ip GROUP BY 1 HAVING count(*) >= {int(p['min_admissions'])})
                           GROUP BY ALL""").fetchall()
    if not rows:
        return
    insts = sorted({r[0] for r in rows})
    ii = {c: k for k, c in enumerate(insts)}
    nd = (e - b).days + 1
    counts = np.zeros((len(insts), nd))
    for code, day, n in rows:
        counts[ii[code], (day - b).days] += n
    days = np.array([b.toordinal() + k for k in range(nd)])
    dow = (days + 6) % 7            # 0 = Monday (date.fromordinal(1) is a Monday)
    wf = _weekday_factors(counts, dow)
    burst, expected, pv = _bursts(counts, np.maximum(wf[dow], 0.05), int(p["baseline_days"]), int(p["min_day"]),
                                  float(p["p_max"]))
    out = []
    for i, d in zip(*np.nonzero(burst)):
        day = b.fromordinal(int(days[d]))
        out.append((insts[i], day, int(counts[i, d]), float(expected[i, d]), float(pv[i, d]), "day"))
    # weekly bursts: Monday-aligned weeks, baseline ±4 weeks
    w0 = int(dow[0])
    nweeks = (nd + w0 + 6) // 7
    wk = np.zeros((len(insts), nweeks))
    np.add.at(wk, (slice(None), (np.arange(nd) + w0) // 7), counts)
    wburst, wexp, wp = _bursts(wk, np.ones(nweeks), 4, int(p["min_week"]), float(p["p_max"]))
    for i, w in zip(*np.nonzero(wburst)):
        day = b.fromordinal(int(days[0]) - w0 + 7 * int(w))
        out.append((insts[i], day, int(wk[i, w]), float(wexp[i, w]), float(wp[i, w]), "week"))
    con.execute("CREATE OR REPLACE TEMP TABLE _s02 (fixmedins_code VARCHAR, day DATE, n INTEGER, expected DOUBLE, "
                "p DOUBLE, unit VARCHAR)")
    if out:
        con.executemany("INSERT INTO _s02 VALUES (?, ?, ?, ?, ?, ?)", out)
    con.execute("""CREATE OR REPLACE TEMP TABLE _s02_enc AS
        SELECT DISTINCT e.mdtrt_id, e.psn_no, e.fixmedins_code, e.begn_date FROM sc_enc e JOIN _s02 s
          ON s.fixmedins_code = e.fixmedins_code AND e.ip
         AND ((s.unit = 'day' AND e.begn_date = s.day) OR (s.unit = 'week' AND e.begn_date >= s.day AND e.begn_date < s.day + 7))""")
    ctx.flag("burst", "SELECT mdtrt_id FROM _s02_enc")
    full = float(p["full_share"])
    ctx.add_hits("S02", f"""
        WITH ip AS (SELECT fixmedins_code, max(c) / sum(c) AS top_dow_share, arg_max(dw, c) AS top_dow
                    FROM (SELECT fixmedins_code, isodow(begn_date) AS dw, count(*) AS c FROM sc_enc WHERE ip GROUP BY ALL)
                    GROUP BY 1),
             n_ip AS (SELECT fixmedins_code, count(*) AS n_ip FROM sc_enc WHERE ip GROUP BY 1),
             bd AS (SELECT fixmedins_code, count(*) FILTER (WHERE unit = 'day') AS days,
                           count(*) FILTER (WHERE unit = 'week') AS weeks,
                           arg_max(day, n / expected) FILTER (WHERE unit = 'day') AS ex_day,
                           arg_max(n, n / expected) FILTER (WHERE unit = 'day') AS ex_n,
                           arg_max(expected, n / expected) FILTER (WHERE unit = 'day') AS ex_exp,
                           list(CAST(day AS VARCHAR) ORDER BY day) FILTER (WHERE unit = 'day') AS day_list,
                           list(CAST(day AS VARCHAR) ORDER BY day) FILTER (WHERE unit = 'week') AS week_list
                    FROM _s02 GROUP BY 1),
             ba AS (SELECT fixmedins_code, count(*) AS n_burst FROM _s02_enc GROUP BY 1)
        SELECT 'medins', bd.fixmedins_code, NULL, bd.fixmedins_code,
               least(1.0, ba.n_burst / n_ip.n_ip / {full}) * least(1.0, (bd.days + bd.weeks) / 2.0), ba.n_burst / n_ip.n_ip,
               json_object('住院人次', n_ip.n_ip, '高峰日数', bd.days, '高峰周数', bd.weeks, '高峰入院人次', ba.n_burst,
                           '占比', round(ba.n_burst / n_ip.n_ip, 4), '最集中的星期', ip.top_dow,
                           '该星期入院占比', round(ip.top_dow_share, 4), '高峰日', coalesce(bd.day_list, []),
                           '高峰周（周一）', coalesce(bd.week_list, []))::VARCHAR,
               format('{{}}个入院高峰日（{{}}个高峰周）共入院{{}}人次，占全部住院的{{:.0f}}%；如{{}}单日入院{{}}人（同期日均约{{:.1f}}人）；'
                      '{{:.0f}}%的住院在星期{{}}入院',
                      bd.days, bd.weeks, ba.n_burst, 100 * ba.n_burst / n_ip.n_ip, coalesce(CAST(bd.ex_day AS VARCHAR), '—'),
                      coalesce(bd.ex_n, 0), coalesce(bd.ex_exp / 1.0, 0), 100 * ip.top_dow_share,
                      ['一', '二', '三', '四', '五', '六', '日'][ip.top_dow])
        FROM bd JOIN ba USING (fixmedins_code) JOIN n_ip USING (fixmedins_code) JOIN ip USING (fixmedins_code)""")
    ctx.add_hits("S02", """
        SELECT 'person', psn_no, NULL, any_value(fixmedins_code), least(1.0, count(*) / 3.0), count(*),
               json_object('高峰日入院次数', count(*), '机构', any_value(m.fixmedins_name),
                           '日期', string_agg(CAST(begn_date AS VARCHAR), '、' ORDER BY begn_date))::VARCHAR,
               format('在{}的入院高峰日入院{}次（{}）', any_value(m.fixmedins_name), count(*),
                      string_agg(CAST(begn_date AS VARCHAR), '、' ORDER BY begn_date))
        FROM _s02_enc JOIN sc_medins m USING (fixmedins_code) GROUP BY psn_no""")


def s03_amount_spikes(ctx: Ctx) -> None:
    p = ctx.p("S03")
    w = float(p["width"])
    r = max(3, round(math.log(1.1) / math.log(1 + w)))
    ctx.con.execute(f"""CREATE OR REPLACE TEMP TABLE _s03 AS
        WITH st AS (SELECT fixmedins_code, mdtrt_id, main_dx, medfee,
                           CAST(floor(ln(medfee) / ln(1 + {w})) AS BIGINT) AS b
                    FROM sc_enc WHERE ip AND medfee > 0 AND fixmedins_code IN (
                        SELECT fixmedins_code FROM sc_enc WHERE ip GROUP BY 1 HAVING count(*) >= {int(p['min_stays'])})),
             bd AS (SELECT fixmedins_code, b, main_dx, count(*) AS c, list(mdtrt_id) AS ids, mode(medfee) AS amt
                    FROM st GROUP BY ALL),
             bk AS (SELECT fixmedins_code, b, sum(c) AS n, count(*) AS n_dx, max(c) / sum(c) AS top_dx_share,
                           arg_max(amt, c) AS amt, flatten(list(ids)) AS ids FROM bd GROUP BY ALL),
             nb AS (SELECT *, sum(n) OVER (PARTITION BY fixmedins_code ORDER BY b RANGE BETWEEN {r} PRECEDING AND {r} FOLLOWING)
                              - sum(n) OVER (PARTITION BY fixmedins_code ORDER BY b RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING)
                              AS around FROM bk)
        SELECT *, around / {2 * r - 2}.0 AS local_mean FROM nb
        WHERE n >= {int(p['min_cluster'])} AND n >= {float(p['spike_ratio'])} * greatest(around / {2 * r - 2}.0, 0.5)""")
    min_dx = int(p["min_dx"])
    # a template: several diagnoses share the amount, none of them dominating (one procedure at one price is not)
    tmpl = f"n_dx >= {min_dx} AND top_dx_share <= {float(p['max_top_dx'])}"
    ctx.flag("amount_spike", f"SELECT unnest(ids) AS mdtrt_id FROM _s03 WHERE {tmpl}")
    ctx.add_hits("S03", f"""
        WITH ip AS (SELECT fixmedins_code, count(*) AS n_ip FROM sc_enc WHERE ip GROUP BY 1),
             sp AS (SELECT fixmedins_code, sum(n) FILTER (WHERE {tmpl}) AS n_spk, count(*) AS spikes,
                           count(*) FILTER (WHERE {tmpl}) AS spikes_dx,
                           arg_max(amt, n) FILTER (WHERE {tmpl}) AS ex_amt, max(n) FILTER (WHERE {tmpl}) AS ex_n,
                           arg_max(n_dx, n) FILTER (WHERE {tmpl}) AS ex_dx
                    FROM _s03 GROUP BY 1)
        SELECT 'medins', fixmedins_code, NULL, fixmedins_code, least(1.0, coalesce(n_spk, 0) / n_ip / {p['full_share']}),
               coalesce(n_spk, 0) / n_ip,
               json_object('住院人次', n_ip, '集中金额个数', spikes, '多病种同金额个数', spikes_dx,
                           '落在多病种同金额的人次', coalesce(n_spk, 0), '占比', round(coalesce(n_spk, 0) / n_ip, 4),
                           '示例金额', ex_amt, '示例人次', ex_n, '示例诊断种数', ex_dx)::VARCHAR,
               format('{{:.0f}}%的住院结算总费用集中在{{}}个几乎相同的金额上（如{{:.2f}}元附近{{}}人次，涉及{{}}种不同主诊断）',
                      100 * coalesce(n_spk, 0) / n_ip, spikes_dx, ex_amt, ex_n, ex_dx)
        FROM sp JOIN ip USING (fixmedins_code) WHERE spikes_dx > 0""")


def s11_readmission(ctx: Ctx) -> None:
    p = ctx.p("S11")
    gap, full = int(p["max_gap"]), float(p["full_at"])
    ctx.con.execute(f"""CREATE OR REPLACE TEMP TABLE _s11 AS
        WITH s AS (SELECT mdtrt_id, psn_no, fixmedins_code, doc_code, begn_date, end_date, dx_family
                   FROM sc_enc WHERE ip AND NOT planned),
             nx AS (SELECT s.*, lead(mdtrt_id) OVER w AS next_id, lead(begn_date) OVER w AS next_begn,
                           lead(fixmedins_code) OVER w AS next_medins, lead(dx_family) OVER w AS next_family
                    FROM s WINDOW w AS (PARTITION BY psn_no ORDER BY begn_date, mdtrt_id))
        SELECT *, date_diff('day', end_date, next_begn) AS gap FROM nx
        WHERE next_medins = fixmedins_code AND next_family = dx_family AND date_diff('day', end_date, next_begn) <= {gap}""")
    ctx.flag("readmit", "SELECT mdtrt_id FROM _s11 UNION ALL SELECT next_id FROM _s11")
    # strength = min(1, n / full) × min(1, max(floor, rate / 5 %)): a doctor's few split stays matter even when he has
    # many stays (floor 0.5); an institution needs twice as many and a visible share (floor 0.3)
    for stype, key, scale, floor in (("doctor", "doc_code", 1.0, 0.5), ("medins", "fixmedins_code", 2.0, 0.3)):
        ctx.add_hits("S11", f"""
            WITH base AS (SELECT {key} AS k, count(*) AS n_ip FROM sc_enc WHERE ip AND NOT planned GROUP BY 1),
                 r AS (SELECT {key} AS k, count(*) AS n, round(avg(gap), 1) AS avg_gap, any_value(fixmedins_code) AS medins
                       FROM _s11 GROUP BY 1)
            SELECT '{stype}', r.k, NULL, r.medins,
                   least(1.0, r.n / {full * scale}) * least(1.0, greatest({floor}, r.n / base.n_ip / 0.05)),
                   r.n, json_object('再入院次数', r.n, '住院人次', base.n_ip, '占比', round(r.n / base.n_ip, 4),
                                    '平均间隔天数', r.avg_gap)::VARCHAR,
                   format('{'经治患者' if stype == 'doctor' else '患者'}出院后{gap}天内以相关诊断在本机构再次入院{{}}次'
                          '（占住院的{{:.0f}}%，平均间隔{{}}天），疑似分解住院', r.n, 100 * r.n / base.n_ip, r.avg_gap)
            FROM r JOIN base USING (k) WHERE r.k IS NOT NULL""")


def s12_doctor_flags(ctx: Ctx) -> None:
    p = ctx.p("S12")
    cols = ", ".join(f"count(*) FILTER (WHERE list_contains(f.flags, '{k}')) AS \"{k}\"" for k in FLAG_NAMES)
    rows = ctx.con.execute(f"""
        WITH f AS (SELECT mdtrt_id, list(DISTINCT flag) AS flags FROM sc_flags GROUP BY 1)
        SELECT e.doc_code, any_value(e.fixmedins_code), count(*) AS n, count(f.mdtrt_id) AS k, {cols}
        FROM sc_enc e LEFT JOIN f USING (mdtrt_id) WHERE e.ip AND e.doc_code IS NOT NULL
        GROUP BY 1 HAVING count(*) >= {int(p['min_stays'])} AND count(f.mdtrt_id) > 0""").fetchall()
    out = []
    full = float(p["full_count"])
    for doc, medins, n, k, *per in rows:
        share = k / n
        strength = min(1.0, share / 0.5) * min(1.0, k / full)
        parts = sorted(((c, FLAG_NAMES[f]) for f, c in zip(FLAG_NAMES, per) if c), reverse=True)
        detail = "、".join(f"{name}{c}人次" for c, name in parts[:4])
        metrics = {"住院人次": n, "带筛查疑点人次": k, "占比": round(share, 4), **{name: c for c, name in parts}}
        out.append(("doctor", doc, None, medins, strength, share, json.dumps(metrics, ensure_ascii=False),
                    f"经治住院{n}人次中{k}人次（{share:.0%}）带有筛查疑点：{detail}"))
    ctx.add_hit_rows("S12", out)
