"""What every scheme's default logic looks at, as boolean masks over fee lines.

Normal data is made clean by dropping every line any mask flags (``sanitize``); injections use the same
masks to make sure an injected line breaks only the rule it is meant to break.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .catalog import Catalog
from .config import INPATIENT_MED_TYPES
from .frame import Frame
from .geo import City

PRD_LIMIT = 30          # B12: days supplied per prescription
NEAR = 86400


def age_at(brdy: np.ndarray, day: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray]:
    """(age in full years, age in days) on ``day`` for birthdays ``brdy`` (both day indices of the year)."""
    y0 = np.datetime64(dt.date(year, 1, 1), "D")
    b = y0 + brdy.astype("timedelta64[D]"); s = y0 + day.astype("timedelta64[D]")
    by = b.astype("datetime64[Y]").astype(int); sy = s.astype("datetime64[Y]").astype(int)
    bm = b.astype("datetime64[M]").astype(int) % 12; sm = s.astype("datetime64[M]").astype(int) % 12
    bd = (b - b.astype("datetime64[M]")).astype(int); sd = (s - s.astype("datetime64[M]")).astype(int)
    years = sy - by - ((sm < bm) | ((sm == bm) & (sd < bd)))
    return years, (day - brdy)


def _group_first(key: np.ndarray, val: np.ndarray) -> np.ndarray:
    """For each element, the minimum of val over elements with the same key."""
    u, inv = np.unique(key, return_inverse=True)
    m = np.full(len(u), np.iinfo(np.int64).max)
    np.minimum.at(m, inv, val)
    return m[inv]


def masks(L: Frame, E: Frame, persons: Frame, city: City, cat: Catalog) -> dict[str, np.ndarray]:
    enc, item = L["enc"], L["item"]
    ps = E["psn"][enc]
    inst = E["inst"][enc]
    absday = L["t"] // 86400
    mt = E["mt"][enc]
    out: dict[str, np.ndarray] = {}
    g = persons["gend"][ps]
    out["gend"] = (cat.gend_lim[item] > 0) & (cat.gend_lim[item] != g)
    ay, ad = age_at(persons["brdy"][ps], absday, city.year)
    out["age"] = ((cat.age_max_y[item] < 999) & ((ay >= cat.age_max_y[item]) | (ay < cat.age_min_y[item]))) | (
        (cat.age_max_days[item] < 10 ** 6) & (ad > cat.age_max_days[item]))
    out["ins"] = cat.injury[item] | (cat.matern[item] & (E["ins"][enc] != "510"))
    out["grade"] = cat.min_grade[item] > city.inst_grade[inst]
    out["medtype"] = cat.ip_only[item] & ~np.isin(mt, list(INPATIENT_MED_TYPES))
    k = cat.icd_kp[item]
    has = k >= 0
    okd = cat.dx_icd_match[E["dx0"][enc], np.maximum(k, 0)] | cat.dx_icd_match[E["dx1"][enc], np.maximum(k, 0)]
    out["icd"] = has & ~okd
    out["net"] = cat.net_forbid[item] & (mt == "9901")
    out["scope"] = np.zeros(len(L), bool)
    sc = np.array([cat.scope_items.get(int(i), "") for i in range(cat.n)], dtype=object)
    need = sc[item]
    chk = np.nonzero(need != "")[0]
    if len(chk):
        out["scope"][chk] = [need[j] not in city.inst_scope_set[inst[j]] for j in chk]
    out["valid"] = (absday < cat.begn[item]) | (absday > cat.endd[item]) | ~cat.in_catalogue[item]
    # course (days of use within one encounter)
    md = cat.max_days[item]
    c = md > 0
    out["course"] = np.zeros(len(L), bool)
    if c.any():
        key = enc[c] * cat.n + item[c]
        first = _group_first(key, L["day"][c])
        out["course"][np.nonzero(c)[0]] = (L["day"][c] - first) >= md[c]
    # frequency per day
    fd = cat.freq_day[item]
    f = np.nonzero(fd > 0)[0]
    out["freq"] = np.zeros(len(L), bool)
    if len(f):
        key = (enc[f] * cat.n + item[f]) * 400 + absday[f]
        u, inv, cnts = np.unique(key, return_inverse=True, return_counts=True)
        tot = np.zeros(len(u), np.int64)
        np.add.at(tot, inv, L["cnt"][f])
        out["freq"][f] = tot[inv] > fd[f]
    # pairs on the same day, included consumables, bundle parts
    ek = enc * 400 + absday
    out["pair"] = np.zeros(len(L), bool)
    for a, b, _ in cat.pairs:
        ma, mb = item == a, item == b
        if ma.any() and mb.any():
            out["pair"] |= mb & np.isin(ek, ek[ma])
    out["included"] = np.zeros(len(L), bool)
    for s, cs in cat.included:
        ms, mc = item == s, item == cs
        if ms.any() and mc.any():
            out["included"] |= mc & np.isin(enc, enc[ms])
    out["bundle"] = np.zeros(len(L), bool)
    for b, parts in cat.bundles.items():
        mp = np.isin(item, parts)
        if mp.sum() > 1:
            key = ek[mp]
            u, inv, cnts = np.unique(key, return_inverse=True, return_counts=True)
            out["bundle"][np.nonzero(mp)[0]] = cnts[inv] >= 2
    # second line without earlier first-line use in the encounter
    out["line2"] = np.zeros(len(L), bool)
    for j, fl in enumerate(cat.first_line):
        m2 = cat.second_line[item] == j
        if not m2.any():
            continue
        mf = np.isin(item, fl)
        fday = np.full(len(E), 10 ** 6)
        np.minimum.at(fday, enc[mf], L["day"][mf])
        out["line2"] |= m2 & (L["day"] <= fday[enc])
    # single-herb prescriptions of herbs payable only in compounds
    out["herb"] = np.zeros(len(L), bool)
    hs = cat.herb_single[item]
    if hs.any():
        herb = cat.is_herb[item]
        nonsingle = herb & ~hs
        has_other = np.zeros(len(E), bool)
        has_other[enc[nonsingle]] = True
        out["herb"] = hs & ~has_other[enc]
    out["herb"] |= cat.herb_none[item] & (cat.lv_code[item] != 3)
    # price above the cap, consumable markup
    out["price"] = L["pric"] > L["cap"]
    cons_hosp = cat.is_cons[item] & (city.inst_ftype[inst] == 1)
    out["markup"] = cons_hosp & (L["pric"] > city.purc_price[inst, item])
    # outside the stay
    out["time"] = (L["t"] < E["t0"][enc]) | (L["t"] > E["t1"][enc])
    return out


def sanitize(L: Frame, E: Frame, persons: Frame, city: City, cat: Catalog) -> Frame:
    m = masks(L, E, persons, city, cat)
    bad = np.zeros(len(L), bool)
    for v in m.values():
        bad |= v
    L = L.take(np.nonzero(~bad)[0])
    L = _period(L, E, cat)
    return L


def _period(L: Frame, E: Frame, cat: Catalog) -> Frame:
    """Per person: keep one use of a period-capped item per period (and the course limits of pt_hand)."""
    item = L["item"]
    per = cat.period_days[item]
    iv = cat.min_interval[item]
    m = np.nonzero((per > 0) | (iv > 0))[0]
    if not len(m):
        return L
    ps = E["psn"][L["enc"][m]]
    key = ps * cat.n + item[m]
    o = np.lexsort((L["t"][m], key))
    keep = np.ones(len(L), bool)
    last_key, first_t, last_t = -1, 0, 0
    for j in o:
        li = m[j]; k = key[j]; t = L["t"][li]
        if k != last_key:
            last_key, first_t, last_t = k, t, t
            continue
        i = item[li]
        gap = (t - last_t) / 86400
        if (per[li] > 0 and gap < cat.period_days[i]) or (iv[li] > 0 and (gap < cat.min_interval[i]
                                                                          or (t - first_t) / 86400 > cat.max_days[i])):
            keep[li] = False
        else:
            last_t = t
    return L.take(np.nonzero(keep)[0])


def cap_prescriptions(L: Frame, E: Frame, cat: Catalog) -> None:
    """prd_days never reaches the next dispensing visit of the same person (no overlapping supplies)."""
    has = np.zeros(len(E), bool)
    has[L["enc"][L["prd"] > 0]] = True
    idx = np.nonzero(has)[0]
    if not len(idx):
        return
    o = idx[np.lexsort((E["d0"][idx], E["psn"][idx]))]
    nxt = np.full(len(E), 10 ** 6)
    same = E["psn"][o][1:] == E["psn"][o][:-1]
    nxt[o[:-1][same]] = E["d0"][o][1:][same] - E["d0"][o][:-1][same]
    cap = np.minimum(nxt[L["enc"]], PRD_LIMIT - 2)
    new = np.where(L["prd"] > 0, np.maximum(1, np.minimum(L["prd"], cap)), L["prd"])
    pk = cat.pack_days[L["item"]]
    redo = (new != L["prd"]) & (pk > 0) & ~cat.is_herb[L["item"]]
    L["cnt"] = np.where(redo, np.maximum(1, -(-new // np.maximum(pk, 1))), L["cnt"])
    L["prd"] = new
