"""Insured persons of one chunk, generated household by household (psn_info)."""

from __future__ import annotations

import numpy as np

from . import names as nm
from .frame import Frame
from .geo import DISTRICTS, City

HH_TYPES = np.array([0.08, 0.15, 0.12, 0.30, 0.12, 0.15, 0.08])


def psn_no_of(gidx: np.ndarray) -> np.ndarray:
    v = (gidx.astype(np.int64) * 982451653 + 12345) % 10 ** 12
    return np.char.add("3206", np.char.zfill(v.astype(str), 12)).astype(object)


def _age(rng, n, lo, hi, mode=None):
    mode = (lo + hi) / 2 if mode is None else mode
    return np.floor(rng.triangular(lo, mode, hi + 0.999, n)).astype(int)


def make_persons(city: City, rng: np.random.Generator, n_target: int, gbase: int, chunk: int) -> tuple[Frame, Frame]:
    """Return (persons, households) frames for one chunk with exactly n_target persons."""
    nh = int(n_target / 2.6) + 20
    ht = rng.choice(7, nh, p=HH_TYPES / HH_TYPES.sum())
    mem_h, mem_age, mem_g, mem_role = [], [], [], []   # role: 0 adult/elder, 1 child, 2 newborn

    def push(hidx, ages, gend, role):
        mem_h.append(hidx); mem_age.append(ages); mem_g.append(gend); mem_role.append(np.full(len(hidx), role))
    for t in range(7):
        h = np.nonzero(ht == t)[0]
        k = len(h)
        if not k:
            continue
        if t == 0:
            push(h, _age(rng, k, 60, 92, 68), rng.integers(1, 3, k), 0)
        elif t == 1:
            a = _age(rng, k, 60, 88, 66)
            push(h, a, np.ones(k, int), 0); push(h, np.maximum(a - rng.integers(-2, 5, k), 58), np.full(k, 2), 0)
        elif t in (2, 6):
            a = _age(rng, k, 22, 64, 50) if t == 2 else _age(rng, k, 24, 48, 36)
            push(h, a, np.ones(k, int), 0); push(h, np.maximum(a - rng.integers(0, 4, k), 20), np.full(k, 2), 0)
        elif t in (3, 4, 5):
            a = _age(rng, k, 24, 56, 42)
            wa = np.maximum(a - rng.integers(0, 4, k), 22)
            push(h, a, np.ones(k, int), 0); push(h, wa, np.full(k, 2), 0)
            nb = (rng.random(k) < 0.085) & (wa <= 38)
            c1 = np.clip(wa - rng.integers(22, 34, k), 0, 25)
            push(h[~nb], c1[~nb], rng.integers(1, 3, (~nb).sum()), 1)
            push(h[nb], np.full(nb.sum(), -1), rng.integers(1, 3, nb.sum()), 2)
            if t == 4:
                push(h, np.clip(c1 + rng.integers(2, 8, k), 0, 28), rng.integers(1, 3, k), 1)
            if t == 5:
                g = np.clip(a + rng.integers(24, 32, k), 55, 95)
                push(h, g, np.ones(k, int), 0); push(h, np.maximum(g - rng.integers(0, 4, k), 52), np.full(k, 2), 0)
        if t == 6:
            push(h, _age(rng, k, 18, 59, 30), rng.integers(1, 3, k), 0)
    hh = np.concatenate(mem_h); age = np.concatenate(mem_age); gend = np.concatenate(mem_g); role = np.concatenate(mem_role)
    o = np.lexsort((-age, hh))
    hh, age, gend, role = hh[o], age[o], gend[o], role[o]
    hh, age, gend, role = hh[:n_target], age[:n_target], gend[:n_target], role[:n_target]
    n = len(hh)
    assert n == n_target, "not enough households"
    nh = int(hh.max()) + 1
    # household geography
    urban_h = rng.random(nh) < 0.58
    vil_h = rng.integers(0, len(city.vil_name), nh)
    street_h = rng.integers(0, len(city.street_name), nh)
    dist_h = np.where(urban_h, city.street_district[street_h], city.town_district[city.vil_town[vil_h]])
    idet_h = np.where(~urban_h, rng.choice(["", "01", "04"], nh, p=[0.9, 0.05, 0.05]),
                      rng.choice(["", "01"], nh, p=[0.985, 0.015])).astype(object)
    urban = urban_h[hh]
    # birthdays
    ndays = city.ndays
    doy = rng.integers(0, 365, n)
    year_born = city.year - 1 - age
    brdy_day = np.array((year_born - city.year) * 365.25 + doy, dtype=np.int64)
    nb = role == 2
    brdy_day[nb] = rng.integers(0, ndays - 5, nb.sum())
    age0 = np.where(nb, 0, age + 1)           # age reached during the year (approx.)
    # insurance
    adult = age0 >= 18
    r = rng.random(n)
    retired = adult & (((gend == 1) & (age0 >= 60)) | ((gend == 2) & (age0 >= 55)))
    emp = adult & ~retired & (age0 <= 59) & np.where(urban, r < 0.72, r < 0.14)
    ret310 = retired & np.where(urban, r < 0.62, r < 0.08)
    insutype = np.where(emp | ret310, "310", "390").astype(object)
    psn_type = np.where(emp, "11", np.where(ret310, "21", np.where(age0 < 18, "32", "31"))).astype(object)
    idet = np.where(insutype == "390", idet_h[hh], "").astype(object)
    single_old = (HH_TYPES.size > 0) & (ht[hh] == 0) & ~urban & (insutype == "390")
    pick = single_old & (rng.random(n) < 0.12)
    idet[pick] = np.where(rng.random(pick.sum()) < 0.5, "02", "03")
    # health
    u = rng.random((6, n))
    p_htn = np.select([age0 < 18, age0 < 45, age0 < 60, age0 < 75], [0, 0.05, 0.2, 0.4], 0.5)
    p_dm = np.select([age0 < 18, age0 < 45, age0 < 60], [0, 0.02, 0.09], 0.16)
    htn = u[0] < p_htn
    dm = u[1] < p_dm
    chd = u[2] < np.select([age0 < 45, age0 < 60], [0, 0.03], 0.1)
    copd = u[3] < np.select([age0 < 40, age0 < 60], [0, 0.03], 0.09)
    dial = (u[4] < 0.0009) & (age0 >= 20)
    cancer = (u[5] < np.select([age0 < 40, age0 < 60], [0.0004, 0.003], 0.008)) & ~dial
    p_die = np.select([age0 < 60, age0 < 70, age0 < 80], [0.0008, 0.008, 0.025], 0.08) + 0.08 * (dial | cancer)
    die_day = np.where(rng.random(n) < p_die, rng.integers(5, ndays, n), -1)
    die_day[nb] = -1
    # identity
    gidx = gbase + np.arange(n)
    psn_no = psn_no_of(gidx)
    name = nm.masked_names(rng, gend)
    adm = np.array([d[0] for d in DISTRICTS], dtype=object)[dist_h[hh]]
    tail = np.char.zfill(rng.integers(0, 1000, n).astype(str), 3).astype(object) + np.where(rng.random(n) < 0.09, "X", rng.integers(0, 10, n).astype(str)).astype(object)
    certno = adm + "********" + tail
    fmly = np.array([f"32{((chunk * 100000 + h) * 7368787 + 99) % 10 ** 12:012d}" for h in range(nh)], dtype=object)
    rural_addr = np.array([f"{city.vil_addr[v]}{g}组{k}号" for v, g, k in zip(vil_h, rng.integers(1, 12, nh), rng.integers(1, 60, nh))], dtype=object)
    urb_addr = np.array([f"江海市{DISTRICTS[city.street_district[s]][1]}{city.street_name[s]}{nm.ROADS[r1 % 20]}{r2}号{nm.COMMUNITIES[r3 % 16]}{b}幢{r4}室"
                         for s, r1, r2, r3, b, r4 in zip(street_h, rng.integers(0, 20, nh), rng.integers(1, 400, nh), rng.integers(0, 16, nh),
                                                         rng.integers(1, 30, nh), rng.integers(101, 2602, nh))], dtype=object)
    addr_h = np.where(urban_h, urb_addr, rural_addr)
    comp = np.array(nm.company_names(rng, 64), dtype=object)
    emp_name = np.where(insutype == "310", comp[rng.integers(0, 64, n)], "").astype(object)
    # mothers of newborns: the woman aged 22-38 of the household
    mother = np.full(n, -1)
    for i in np.nonzero(nb)[0]:
        cand = np.nonzero((hh == hh[i]) & (gend == 2) & (age0 >= 20) & (age0 <= 40))[0]
        if len(cand):
            mother[i] = cand[0]
    persons = Frame(hh=hh, gend=gend, age0=age0, brdy=brdy_day, urban=urban, dist=dist_h[hh],
                    vil=np.where(urban, -1, vil_h[hh]), town=np.where(urban, -1, city.vil_town[vil_h[hh]]),
                    street=np.where(urban, street_h[hh], -1), insutype=insutype, psn_type=psn_type, idet=idet,
                    htn=htn, dm=dm, chd=chd, copd=copd, dial=dial, cancer=cancer, die=die_day, newborn=nb, mother=mother,
                    psn_no=psn_no, name=name, certno=certno, addr=addr_h[hh], fmly_no=fmly[hh], emp_name=emp_name,
                    emp_no=np.full(n, "", dtype=object), staff=np.full(n, -1), gidx=gidx)
    persons["vlg_code"] = np.where(urban, "", city.vil_code[np.maximum(persons["vil"], 0)]).astype(object)
    persons["admdvs"] = adm
    return persons, Frame(urban=urban_h, vil=vil_h, street=street_h, dist=dist_h)
