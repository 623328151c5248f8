"""Peer-comparison screens on institutions: S08 重点领域费用异常, S10 统计指标偏离同类 (both read screen_indicators),
and S09 药品耗材基金使用异常 (fund use by institution × item across the two halves of the period)."""

from __future__ import annotations

import json
import math

from fundguard.screening.context import Ctx
from fundguard.screening.indicators import BY_CODE

ZB_SCREENED = ("ZB001", "ZB002", "ZB003", "ZB004", "ZB005", "ZB006", "ZB007", "ZB008", "IP02", "IP03", "IP04")


def _peer_hits(ctx: Ctx, screen_id: str, codes: list[str], z_min: float, min_value: float) -> None:
    """Hits of one peer-comparison screen. The strength grows with the top robust z and with the breadth of the
    deviation: 0.5 for one deviating indicator, 0.75 for two, 1 for three or more (counted over S08 and S10 together) —
    one specialised field (a dialysis centre) weighs less than a practice that lifts several shares at once."""
    peer_codes = [c for c in BY_CODE if c.startswith("KF_")] + list(ZB_SCREENED)
    rows = ctx.con.execute(f"""
        SELECT subject_id, indicator, value, peer_median, peer_p90, pct_rank, robust_z, peer_n, peer_group
        FROM screen_indicators
        WHERE run_id = {ctx.run_id} AND subject_type = 'medins' AND comparable AND robust_z >= {z_min}
          AND pct_rank >= 0.9 AND indicator IN ({', '.join(f"'{c}'" for c in peer_codes)})
        ORDER BY subject_id, robust_z DESC""").fetchall()
    breadth: dict[str, int] = {}
    by_subject: dict[str, list] = {}
    for r in rows:
        if _clear_excess(r):
            breadth[r[0]] = breadth.get(r[0], 0) + 1
            if r[1] in codes and r[2] >= min_value:
                by_subject.setdefault(r[0], []).append(r)
    out = []
    for subject, hits in by_subject.items():
        top = hits[0]
        wide = 0.5 + 0.25 * min(2, breadth[subject] - 1)
        strength = min(1.0, (top[6] - z_min) / (2 * z_min)) * wide
        parts = [_describe(h) for h in hits[:3]]
        metrics = {BY_CODE[h[1]].name: {"值": round(h[2], 4), "同类中位数": round(h[3], 4), "水位": f"P{int(h[5] * 100)}",
                                        "稳健z": round(h[6], 2), "同类机构数": h[7]} for h in hits}
        metrics["偏高指标个数"] = breadth[subject]
        out.append(("medins", subject, None, subject, strength, float(top[6]), json.dumps(metrics, ensure_ascii=False),
                    "；".join(parts) + (f"（共{breadth[subject]}项指标明显高于同类）" if breadth[subject] > 1 else "")))
    ctx.add_hit_rows(screen_id, out)


def _clear_excess(r) -> bool:
    """Beyond the robust z: well above the peers' P90 and by a margin that matters (3 points of a fee share, 5 points of
    a rate, half the median for amounts, days and ratios)."""
    _, code, value, med, p90 = r[:5]
    kind = BY_CODE[code].kind
    margin = {"share": 0.03, "rate": 0.05}.get(kind, 0.5 * abs(med or 0))
    return value >= 1.5 * (p90 or 0) and value - (med or 0) >= margin


def _describe(h) -> str:
    ind = BY_CODE[h[1]]
    fmt = (lambda v: f"{v:.1%}") if ind.kind in ("share", "rate") else (lambda v: f"{v:,.1f}{ind.unit}")
    return (f"{ind.name}{fmt(h[2])}，同类机构（{h[7]}家）中位数{fmt(h[3])}，水位P{int(h[5] * 100)}，稳健z={h[6]:.1f}")


def s08_key_fields(ctx: Ctx) -> None:
    p = ctx.p("S08")
    codes = [c for c in BY_CODE if c.startswith("KF_")]
    _peer_hits(ctx, "S08", codes, float(p["z_min"]), float(p["min_share"]))


def s10_zb(ctx: Ctx) -> None:
    _peer_hits(ctx, "S10", list(ZB_SCREENED), float(ctx.p("S10")["z_min"]), 0.0)


def s09_items(ctx: Ctx) -> None:
    """Surges: for institution h and item i, the encounters using the item in the second half n2 out of n1 + n2 (an
    encounter per patient visit, so one patient's long course is not a surge) follow a binomial law whose
    odds are the item's second-half odds at the other institutions (or the city's overall odds when the item is rarely
    used elsewhere) times h's own change in volume; an item whose p-value is below p_max and whose odds ratio is at
    least min_ratio is a surge. A catalogue change (a new code everywhere) moves the other institutions too and is not
    a surge."""
    con, p = ctx.con, ctx.p("S09")
    import datetime as dt

    from scipy.stats import binom

    mid_month = dt.date.fromordinal(ctx.period.begin.toordinal() + ctx.period.days // 2).replace(day=1).isoformat()
    drugs = "(i.chrg IN ('08', '09', '10', '11') OR i.list_type IN ('101', '102', '301'))"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _s09 AS
        WITH lm AS (SELECT m.*, m.month >= DATE '{mid_month}' AS h2 FROM sc_item_month m),
             tot AS (SELECT fixmedins_code, sum(n_enc) FILTER (WHERE NOT h2) AS t1, sum(n_enc) FILTER (WHERE h2) AS t2
                     FROM lm GROUP BY 1),
             city AS (SELECT sum(t1) AS c1, sum(t2) AS c2 FROM tot),
             im AS (SELECT m.fixmedins_code, m.hilist_code, any_value(m.hilist_name) AS name,
                           coalesce(sum(m.n_enc) FILTER (WHERE NOT m.h2), 0) AS n1,
                           coalesce(sum(m.n_enc) FILTER (WHERE m.h2), 0) AS n2, sum(m.n_lines) AS n_lines,
                           coalesce(sum(m.fee) FILTER (WHERE NOT m.h2), 0) AS f1, coalesce(sum(m.fee) FILTER (WHERE m.h2), 0) AS f2,
                           list(struct_pack(month := m.month, fee := m.fee) ORDER BY m.month) AS series
                    FROM lm m JOIN sc_item i USING (hilist_code) WHERE {drugs} GROUP BY 1, 2),
             it AS (SELECT hilist_code, sum(n1) AS s1, sum(n2) AS s2 FROM im GROUP BY 1),
             fr AS (SELECT fixmedins_code, sum(fund) / nullif(sum(medfee), 0) AS ratio FROM sc_enc GROUP BY 1)
        SELECT im.*, fr.ratio,
               CASE WHEN it.s1 + it.s2 - im.n1 - im.n2 >= 10 THEN (it.s2 - im.n2 + 0.5) / (it.s1 - im.n1 + 0.5)
                    ELSE (city.c2 + 0.5) / (city.c1 + 0.5) END
               * ((tot.t2 + 0.5) / (tot.t1 + 0.5)) / ((city.c2 + 0.5) / (city.c1 + 0.5)) AS odds
        FROM im JOIN it USING (hilist_code) JOIN tot USING (fixmedins_code) LEFT JOIN fr USING (fixmedins_code), city
        WHERE im.n1 + im.n2 >= {int(p['min_enc'])} AND im.f1 + im.f2 >= {float(p['min_fee'])}""")
    rows = con.execute("SELECT fixmedins_code, hilist_code, name, n1, n2, f1, f2, ratio, odds, series FROM _s09 "
                       f"WHERE (n2 + 0.5) / (n1 + 0.5) >= {float(p['min_ratio'])} * odds").fetchall()
    items, inst = [], {}
    for code, item, name, n1, n2, f1, f2, ratio, odds, series in rows:
        pv = float(binom.sf(n2 - 1, n1 + n2, odds / (1 + odds)))
        if pv >= float(p["p_max"]):
            continue
        lp = -math.log10(max(pv, 1e-300))
        strength = min(1.0, 0.3 + (lp + math.log10(float(p["p_max"]))) / 20)
        since = _jump_month(series)
        orr = (n2 + 0.5) / (n1 + 0.5) / odds
        reason = (f"{name}前半期{n1}人次使用、费用{f1:,.0f}元，后半期{n2}人次、费用{f2:,.0f}元（扣除全市同品种和本机构整体变化后为"
                  f"预期的{orr:.1f}倍）" + (f"，自{since}起明显上升" if since else "") +
                  f"，全期估计基金支付{(f1 + f2) * (ratio or 0):,.0f}元")
        metrics = {"前半期人次": n1, "后半期人次": n2, "前半期费用": round(f1, 2), "后半期费用": round(f2, 2),
                   "相对预期倍数": round(orr, 2), "p值": float(f"{pv:.3g}"), "起始月份": since or ""}
        items.append(("item", f"{code}:{item}", name, code, strength, lp, json.dumps(metrics, ensure_ascii=False), reason))
        if code not in inst or strength > inst[code][4]:
            inst[code] = ("medins", code, None, code, strength, lp, json.dumps({"品种": name, **metrics}, ensure_ascii=False),
                          f"药品耗材基金使用异常增长：{reason}")
    # the items with the largest fund use city-wide (listed for the analyst; they add nothing to risk scores)
    top = con.execute(f"""SELECT hilist_code, any_value(name), sum(f1 + f2), sum((f1 + f2) * coalesce(ratio, 0)), count(*),
                                 sum(f2) / nullif(sum(f1), 0) - 1
                          FROM _s09 GROUP BY 1 ORDER BY 4 DESC LIMIT {int(p['top_items'])}""").fetchall()
    for item, name, fee, fund, n_inst, growth in top:
        g = f"，后半期比前半期{'增长' if (growth or 0) >= 0 else '下降'}{abs(growth or 0):.0%}" if growth is not None else ""
        items.append(("item", f"全市:{item}", name, None, 0.0, float(fund or 0),
                      json.dumps({"费用": round(float(fee), 2), "估计基金支付": round(float(fund or 0), 2), "使用机构数": n_inst},
                                 ensure_ascii=False),
                      f"全市基金使用金额居前：{name}费用{float(fee):,.0f}元，估计基金支付{float(fund or 0):,.0f}元，{n_inst}家机构使用{g}"))
    ctx.add_hit_rows("S09", items)
    ctx.add_hit_rows("S09", list(inst.values()))


def _jump_month(series) -> str | None:
    """First month whose fee is at least 3 × the median of the months before it (needs 3 earlier months)."""
    fees = [(s["month"], float(s["fee"] or 0)) for s in series or []]
    for k in range(3, len(fees)):
        before = sorted(f for _, f in fees[:k])
        med = before[len(before) // 2]
        if fees[k][1] >= 3 * max(med, 1.0) and fees[k][1] > 0:
            return fees[k][0].strftime("%Y-%m")
    return None
