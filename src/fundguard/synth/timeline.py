"""When each person of a chunk is ill: stays (non-overlapping, 16-day gaps) and visits on free days."""

from __future__ import annotations

import datetime as dt

import numpy as np

from .config import K_DS
from .frame import Frame
from .profiles import PROFILES, P

SPRING = {2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26)}
RESP_MONTH = np.array([1.6, 1.4, 1.2, 1.0, 0.8, 0.7, 0.7, 0.7, 0.8, 0.9, 1.2, 1.5])
GAP = 16          # minimum days between discharge and the next admission of one person (normal data)


def day_weights(year: int) -> dict[str, np.ndarray]:
    y0 = dt.date(year, 1, 1)
    n = (dt.date(year + 1, 1, 1) - y0).days
    days = [y0 + dt.timedelta(d) for d in range(n)]
    wd = np.array([d.weekday() for d in days])
    month = np.array([d.month - 1 for d in days])
    m, d_ = SPRING.get(year, (2, 1))
    sf = (dt.date(year, m, d_) - y0).days
    fest = np.ones(n)
    fest[max(0, sf - 4): sf + 7] = 0.35
    fest[max(0, sf - 10): max(0, sf - 4)] = 0.85
    op = np.choose(wd, [1.15, 1.05, 1.05, 1.05, 1.0, 0.6, 0.45]) * fest
    ph = np.choose(wd, [1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9]) * np.where(fest < 1, 0.7, 1.0)
    ip = np.choose(wd, [1.2, 1.1, 1.05, 1.05, 1.0, 0.5, 0.45]) * fest
    out = {"op": op, "op_resp": op * RESP_MONTH[month], "ph": ph, "ip": ip, "ip_resp": ip * RESP_MONTH[month],
           "wd": wd, "n": np.array([n])}
    res = {k: (v if k in ("wd", "n") else np.cumsum(v) / v.sum()) for k, v in out.items()}
    res["mstart"] = np.array([(dt.date(year, m, 1) - y0).days for m in range(1, 13)] + [n])
    res["year"] = year
    return res


def sample_days(rng, cdf: np.ndarray, k: int) -> np.ndarray:
    return np.searchsorted(cdf, rng.random(k)).astype(np.int64)


IP_MIX = [("ip_pneu", 10, 0, 120, 0), ("ip_copd", 3, 40, 120, 0), ("ip_stroke", 8, 45, 120, 0), ("ip_chd", 7, 40, 120, 0),
          ("ip_hf", 3, 55, 120, 0), ("ip_dm", 3, 25, 120, 0), ("ip_gi", 5, 14, 120, 0), ("ip_liver", 2, 25, 120, 0),
          ("ip_appy", 3, 6, 120, 0), ("ip_chole", 4, 20, 120, 0), ("ip_hernia", 2.5, 1, 120, 0), ("ip_gica", 1.2, 40, 120, 0),
          ("ip_lungca", 0.8, 40, 120, 0), ("ip_breast", 1.2, 30, 120, 2), ("ip_fx", 4, 6, 120, 0), ("ip_knee", 2, 55, 120, 0),
          ("ip_spine", 3, 20, 120, 0), ("ip_stone", 3, 18, 120, 0), ("ip_bph", 2.5, 50, 120, 1), ("ip_gyn", 3, 20, 120, 2),
          ("ip_tonsil", 1, 4, 70, 0), ("ip_rehab", 2, 45, 120, 0), ("ip_icu", 1, 18, 120, 0), ("ds_cataract", 4, 55, 120, 0),
          ("ds_polyp", 2, 40, 120, 0)]
OP_MIX = [("op_uri", 28, 0, 120, 0), ("op_gi", 10, 14, 120, 0), ("op_msk", 10, 18, 120, 0), ("op_derm", 5, 0, 120, 0),
          ("op_eye", 3, 6, 120, 0), ("op_ent", 3, 3, 120, 0), ("op_dent", 4, 6, 120, 0), ("op_gyn", 6, 15, 120, 2),
          ("op_uro", 3, 25, 120, 1), ("op_uti", 3, 14, 120, 0), ("op_neuro", 4, 14, 120, 0), ("op_psy", 1, 14, 120, 0),
          ("op_tcm", 4, 18, 120, 0), ("op_peds", 30, 0, 13, 0), ("op_childdev", 0.3, 3, 13, 0), ("op_trauma", 4, 3, 120, 0)]


def _mix(rng, mix, age, gend, extra=None) -> np.ndarray:
    w = np.array([[m[1] if (m[2] <= a <= m[3]) and (m[4] in (0, g)) else 0.0 for m in mix] for a, g in
                  zip(np.minimum(age, 120), gend)]) if len(age) < 50 else None
    if w is None:
        a = np.minimum(age, 120)[:, None]
        lo = np.array([m[2] for m in mix])[None]; hi = np.array([m[3] for m in mix])[None]
        sx = np.array([m[4] for m in mix])[None]; base = np.array([m[1] for m in mix], float)[None]
        w = base * ((a >= lo) & (a <= hi) & ((sx == 0) | (sx == gend[:, None])))
    if extra is not None:
        w = w + extra
    w = np.maximum(w, 0)
    s = w.sum(1)
    w[s == 0, 0] = 1
    c = np.cumsum(w, 1) / w.sum(1, keepdims=True)
    pick = (rng.random(len(age))[:, None] > c).sum(1)
    return np.array([PROFILES[mix[min(i, len(mix) - 1)][0]] for i in pick], dtype=np.int64)


def build(persons: Frame, rng: np.random.Generator, W: dict, ndays: int):
    n = len(persons)
    age, gend, die, brdy = persons["age0"], persons["gend"], persons["die"], persons["brdy"]
    alive_end = np.where(die >= 0, die, ndays - 1)
    first = np.maximum(brdy, 0)
    stays = []   # (psn, prof, d0, los, prio)

    def add(ps, prof, d0, los, prio):
        stays.append((np.asarray(ps, np.int64), np.broadcast_to(np.asarray(prof, np.int64), len(ps)).copy(),
                      np.asarray(d0, np.int64), np.asarray(los, np.int64), np.full(len(ps), prio)))
    # chemotherapy cycles (planned)
    cp = np.nonzero(persons["cancer"])[0]
    if len(cp):
        k = rng.integers(4, 7, len(cp))
        s0 = rng.integers(0, ndays - 100, len(cp))
        ps = np.repeat(cp, k); j = np.arange(len(ps)) - np.repeat(np.cumsum(k) - k, k)
        add(ps, PROFILES["ip_chemo"], np.repeat(s0, k) + 21 * j + rng.integers(0, 2, len(ps)), rng.integers(3, 6, len(ps)), 3)
    # deliveries of the mothers of this year's newborns, neonatal stays
    nb = np.nonzero(persons["newborn"] & (persons["mother"] >= 0))[0]
    if len(nb):
        mom = persons["mother"][nb]
        ok = brdy[nb] >= 2
        add(mom[ok], PROFILES["ip_delivery"], brdy[nb][ok] - rng.integers(0, 2, ok.sum()), rng.integers(3, 6, ok.sum()), 4)
    nbs = np.nonzero(persons["newborn"] & (rng.random(n) < 0.12))[0]
    if len(nbs):
        add(nbs, PROFILES["ip_neo"], brdy[nbs] + rng.integers(1, 5, len(nbs)), rng.integers(3, 9, len(nbs)), 4)
    # terminal stays
    dy = np.nonzero((die >= 20) & (rng.random(n) < 0.45) & ~persons["dial"])[0]
    if len(dy):
        los = rng.integers(3, 12, len(dy))
        prof = np.array([PROFILES[x] for x in ("ip_stroke", "ip_hf", "ip_copd", "ip_icu", "ip_pneu")])[rng.integers(0, 5, len(dy))]
        add(dy, prof, die[dy] - los, los, 5)
    # non-planned stays
    lam = np.select([age < 1, age < 14, age < 45, age < 60, age < 70], [0.15, 0.06, 0.07, 0.13, 0.22], 0.34)
    lam = lam + 0.12 * (persons["dm"] | persons["chd"] | persons["copd"] | persons["htn"])
    cnt = np.minimum(rng.poisson(lam), 3)
    cnt[persons["dial"] | persons["newborn"]] = 0
    ps = np.repeat(np.arange(n), cnt)
    if len(ps):
        extra = np.zeros((len(ps), len(IP_MIX)))
        names = [m[0] for m in IP_MIX]
        extra[:, names.index("ip_copd")] += 8 * persons["copd"][ps]
        extra[:, names.index("ip_dm")] += 6 * persons["dm"][ps]
        extra[:, names.index("ip_chd")] += 6 * persons["chd"][ps]
        extra[:, names.index("ip_stroke")] += 3 * persons["htn"][ps] * (age[ps] >= 45)
        prof = _mix(rng, IP_MIX, age[ps], gend[ps], extra)
        lo = np.array([p.get("los", (1, 1))[0] for p in P]); hi = np.array([p.get("los", (1, 1))[1] for p in P])
        los = rng.integers(lo[prof], hi[prof] + 1)
        resp = np.array([P[p].get("season") == "resp" for p in prof])
        d0 = np.where(resp, sample_days(rng, W["ip_resp"], len(ps)), sample_days(rng, W["ip"], len(ps)))
        add(ps, prof, d0, los, 1)
    S = Frame(psn=np.concatenate([s[0] for s in stays]), prof=np.concatenate([s[1] for s in stays]),
              d0=np.concatenate([s[2] for s in stays]), los=np.concatenate([s[3] for s in stays]),
              prio=np.concatenate([s[4] for s in stays]))
    kind = np.array([P[p]["kind"] for p in S["prof"]])
    S["los"] = np.where(kind == K_DS, 1, S["los"])
    S["d1"] = S["d0"] + S["los"]
    ps = S["psn"]
    # died during a stay: the stay ends on the day of death
    dd = die[ps]
    inside = (dd >= 0) & (S["d0"] <= dd) & (S["d1"] >= dd)
    S["d1"] = np.where(inside, dd, S["d1"])
    S["dscg"] = np.where(inside, "5", "1").astype(object)
    ok = (S["d0"] >= first[ps] + np.where(S["prof"] == PROFILES["ip_neo"], 0, 0)) & (S["d1"] <= alive_end[ps]) & (S["d0"] >= 0) & (S["d1"] < ndays)
    ok &= S["d1"] > S["d0"]
    S = S.take(np.nonzero(ok)[0])
    for _ in range(12):                       # drop conflicting stays of one person, keep the higher priority
        o = np.lexsort((S["d0"], S["psn"]))
        S = S.take(o)
        same = S["psn"][1:] == S["psn"][:-1]
        clash = same & (S["d0"][1:] < S["d1"][:-1] + GAP)
        if not clash.any():
            break
        i = np.nonzero(clash)[0]
        drop_prev = S["prio"][i] < S["prio"][i + 1]
        victims = np.unique(np.where(drop_prev, i, i + 1))
        keep = np.ones(len(S), bool); keep[victims] = False
        # only drop one victim per run of clashes per pass
        S = S.take(np.nonzero(keep)[0])
    S["ipt"] = np.maximum(S["d1"] - S["d0"], 1)
    occ = np.zeros((n, ndays + 1), bool)
    for k in range(int(S["los"].max(initial=0)) + 2):
        m = S["d0"] + k <= S["d1"]
        occ[S["psn"][m], S["d0"][m] + k] = True
    for i in np.nonzero(brdy > 0)[0]:
        occ[i, : brdy[i]] = True
    for i in np.nonzero(die >= 0)[0]:
        occ[i, die[i] + 1:] = True
    return S, occ


def visits(persons: Frame, occ: np.ndarray, rng: np.random.Generator, W: dict, ndays: int) -> Frame:
    n = len(persons)
    age, gend = persons["age0"], persons["gend"]
    ev = []   # psn, prof, day, prio, visit_no

    def add(ps, prof, day, prio, vno=None):
        ps = np.asarray(ps, np.int64)
        ev.append((ps, np.broadcast_to(np.asarray(prof, np.int64), len(ps)).copy(), np.asarray(day, np.int64),
                   np.full(len(ps), prio), np.zeros(len(ps), np.int64) if vno is None else np.asarray(vno, np.int64)))

    def stream(mask, prof, prio, gap=(28, 35)):
        ps = np.nonzero(mask)[0]
        if not len(ps):
            return
        g = rng.integers(gap[0], gap[1], (len(ps), 15))
        g[:, 0] = rng.integers(0, 30, len(ps))
        days = np.cumsum(g, 1)
        vno = np.broadcast_to(np.arange(15), days.shape)
        m = days < ndays
        add(np.repeat(ps, m.sum(1)), prof, days[m], prio, vno[m])
    u = rng.random((6, n))
    dial = persons["dial"]
    htn_mode = np.where(u[0] < 0.35, 1, np.where(u[0] < 0.6, 2, 0))      # 1 chronic clinic, 2 pharmacy, 0 occasional
    stream(persons["htn"] & (htn_mode == 1) & ~dial, PROFILES["chr_htn"], 5)
    stream(persons["htn"] & (htn_mode == 2) & ~dial, PROFILES["ph_chronic"], 4)
    dm_mode = u[1] < 0.45
    stream(persons["dm"] & dm_mode & ~dial, PROFILES["chr_dm"], 5)
    stream(persons["chd"] & (u[2] < 0.3) & ~dial, PROFILES["chr_chd"], 5)
    stream(persons["copd"] & (u[3] < 0.3) & ~dial, PROFILES["chr_copd"], 5)
    # general outpatient visits
    lam = np.select([age < 6, age < 14, age < 45, age < 60], [8.0, 4.5, 4.0, 6.0], 8.5)
    cnt = rng.poisson(lam); cnt[dial] = 0
    ps = np.repeat(np.arange(n), cnt)
    if len(ps):
        prof = _mix(rng, OP_MIX, age[ps], gend[ps])
        htn_o = persons["htn"][ps] & (htn_mode[ps] == 0)
        dm_o = persons["dm"][ps] & ~dm_mode[ps]
        r = rng.random(len(ps))
        prof = np.where(htn_o & (r < 0.35), PROFILES["op_htn"], np.where(dm_o & (r > 0.65), PROFILES["op_dm"], prof))
        resp = prof == PROFILES["op_uri"]
        day = np.where(resp, sample_days(rng, W["op_resp"], len(ps)), sample_days(rng, W["op"], len(ps)))
        add(ps, prof, day, 3)
    # pharmacy, internet, prenatal
    cnt = rng.poisson(np.where(age < 14, 0.6, 3.6)); cnt[dial] = 0
    ps = np.repeat(np.arange(n), cnt)
    add(ps, PROFILES["ph_otc"], sample_days(rng, W["ph"], len(ps)), 1)
    cnt = rng.poisson(np.where((age >= 18) & (age <= 65), 0.15, 0.02)); cnt[dial] = 0
    ps = np.repeat(np.arange(n), cnt)
    add(ps, PROFILES["net_visit"], rng.integers(0, ndays, len(ps)), 2)
    nb = np.nonzero(persons["newborn"] & (persons["mother"] >= 0))[0]
    if len(nb):
        mom = np.repeat(persons["mother"][nb], 5)
        off = np.tile(np.array([190, 150, 110, 70, 30]), len(nb)) + rng.integers(-5, 6, len(mom))
        add(mom, PROFILES["op_prenatal"], np.repeat(persons["brdy"][nb], 5) - off, 4)
    V = Frame(psn=np.concatenate([e[0] for e in ev]), prof=np.concatenate([e[1] for e in ev]),
              day=np.concatenate([e[2] for e in ev]), prio=np.concatenate([e[3] for e in ev]),
              vno=np.concatenate([e[4] for e in ev]))
    ok = (V["day"] >= 0) & (V["day"] < ndays)
    V = V.take(np.nonzero(ok)[0])
    V = V.take(np.nonzero(~occ[V["psn"], V["day"]])[0])
    o = np.lexsort((-V["prio"], V["day"], V["psn"]))
    V = V.take(o)
    dup = np.zeros(len(V), bool)
    dup[1:] = (V["psn"][1:] == V["psn"][:-1]) & (V["day"][1:] == V["day"][:-1])
    V = V.take(np.nonzero(~dup)[0])
    # dialysis: one settlement per month covering that month's sessions
    dp = np.nonzero(dial)[0]
    if len(dp):
        rows_p, rows_m = np.repeat(dp, 12), np.tile(np.arange(12), len(dp))
        Vd = Frame(psn=rows_p, prof=np.full(len(rows_p), PROFILES["dial"]), day=rows_m * 0, prio=np.full(len(rows_p), 9),
                   vno=rows_m)
        V = Frame.concat([V, Vd])
    return V


def month_start_days(year: int) -> np.ndarray:
    y0 = dt.date(year, 1, 1)
    return np.array([(dt.date(year, m, 1) - y0).days for m in range(1, 13)] + [(dt.date(year + 1, 1, 1) - y0).days])
