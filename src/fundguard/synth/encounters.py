"""Encounters of a chunk: assembly of stays and visits, diagnoses, operations, institutions, doctors, times."""

from __future__ import annotations

import numpy as np

from .catalog import Catalog
from .config import K_DIAL, K_DS, K_MIP, K_MOP, K_NET, K_PH, KIND_IP
from .constraints import age_at
from .frame import Frame
from .geo import City
from .profiles import PROFILES, P

CATS = ["vc", "thc", "dist", "city", "priv", "clinic", "mch", "eye", "dent", "tcmc", "net", "ph"]
NP = len(P)
CANCERS = [("C34.9", 0), ("C16.9", 0), ("C18.9", 0), ("C22.0", 0), ("C15.9", 0), ("C50.9", 2), ("C53.9", 2), ("C61", 1)]


class Router:
    """Per-city lookup tables: which institutions can serve a profile, and its department there."""

    def __init__(self, city: City, cat: Catalog) -> None:
        self.city = city
        n = city.n_inst
        scope = city.inst_scope_set
        self.ok = np.zeros((NP, n), bool)
        for p, prof in enumerate(P):
            need = set(filter(None, prof.get("need", "").split(";")))
            anyof = {d[:3] for d in prof.get("dept", [])}
            for i in range(n):
                if prof["kind"] == K_PH:
                    self.ok[p, i] = city.inst_ftype[i] == 2
                elif prof["kind"] == K_NET:
                    self.ok[p, i] = city.inst_mtype[i] == "41"
                else:
                    self.ok[p, i] = city.inst_ftype[i] == 1 and city.inst_mtype[i] != "41" and need <= scope[i] and bool(anyof & scope[i])
        self.dept = np.full((NP, n), -1); self.dept_child = np.full((NP, n), -1)
        for p, prof in enumerate(P):
            for i in np.nonzero(self.ok[p])[0]:
                self.dept[p, i] = city.dept(i, prof.get("dept", []))
                self.dept_child[p, i] = city.dept(i, prof.get("dept_child", prof.get("dept", [])))
        mt, grade, nonpub, dist = city.inst_mtype, city.inst_grade, city.inst_nonpub, city.inst_dist
        members = {
            "dist": (np.isin(mt, ["11", "12"]) & (grade == 2) & (nonpub == 0)),
            "city": (grade == 3) & (nonpub == 0),
            "priv": np.isin(mt, ["11", "13"]) & (nonpub == 1) & (grade >= 1),
            "clinic": mt == "31", "mch": (mt == "13") & np.array(["A05" in s for s in scope]),
            "eye": (mt == "13") & np.array(["A10" in s for s in scope]),
            "dent": (mt == "31") & np.array([s == {"A12"} for s in scope]),
            "tcmc": (mt == "31") & np.array([s == {"A50"} for s in scope]),
            "net": mt == "41", "ph": mt == "51",
        }
        self.members = members
        w = city.inst_size
        self.cand: dict[tuple[int, str, int], tuple[np.ndarray, np.ndarray]] = {}
        for p in range(NP):
            for c, m in members.items():
                base = np.nonzero(m & self.ok[p])[0]
                for d in range(7):
                    if not len(base):
                        continue
                    local = dist[base] == d
                    if c in ("dist", "ph", "clinic") and local.any():
                        ids = base[local]; ww = w[ids]
                    else:
                        ids = base; ww = w[ids] * np.where(local, 3.0, 1.0)
                    self.cand[(p, c, d)] = (ids, np.cumsum(ww) / ww.sum())
        self.town_hc = np.full(len(city.town_name), -1); self.street_chc = np.full(len(city.street_name), -1)
        for i in range(n):
            if mt[i] == "21":
                self.town_hc[city.inst_town[i]] = i
            if mt[i] == "22":
                self.street_chc[city.inst_street[i]] = i
        cw = np.zeros((NP, len(CATS)))
        for p, prof in enumerate(P):
            for c, v in prof.get("cats", {}).items():
                cw[p, CATS.index(c)] = v
        self.cat_cdf = np.cumsum(cw, 1) / np.maximum(cw.sum(1, keepdims=True), 1e-9)

    def route(self, E: Frame, persons: Frame, rng: np.random.Generator) -> np.ndarray:
        city = self.city
        prof = E["prof"]; ps = E["psn"]
        cat = (rng.random(len(E))[:, None] > self.cat_cdf[prof]).sum(1)
        cat = np.minimum(cat, len(CATS) - 1)
        inst = np.full(len(E), -1)
        vil, town, street, dist = persons["vil"][ps], persons["town"][ps], persons["street"][ps], persons["dist"][ps]
        m = cat == 0
        cand = np.where(vil >= 0, city.vil_clinic[np.maximum(vil, 0)], -1)
        inst[m] = cand[m]
        m = (cat == 1) | ((cat == 0) & (vil < 0))
        cand = np.where(town >= 0, self.town_hc[np.maximum(town, 0)], self.street_chc[np.maximum(street, 0)])
        inst[m] = cand[m]
        bad = (inst >= 0) & ~self.ok[prof, np.maximum(inst, 0)]
        inst[bad] = -1
        cat = np.where(((cat <= 1) & (inst < 0)), 2, cat)
        todo = inst < 0
        for c in range(2, len(CATS)):
            mc = todo & (cat == c)
            if not mc.any():
                continue
            for p in np.unique(prof[mc]):
                for d in range(7):
                    sel = np.nonzero(mc & (prof == p) & (dist == d))[0]
                    if not len(sel):
                        continue
                    key = (p, CATS[c], d)
                    if key not in self.cand:
                        key = (p, "city", d) if (p, "city", d) in self.cand else next(k for k in self.cand if k[0] == p)
                    ids, cdf = self.cand[key]
                    inst[sel] = ids[np.searchsorted(cdf, rng.random(len(sel)))]
        left = np.nonzero(inst < 0)[0]
        for i in left:
            p = prof[i]
            inst[i] = self.cand[next(k for k in self.cand if k[0] == p)][0][0]
        return inst

    def dept_doc(self, E: Frame, persons: Frame, rng: np.random.Generator) -> None:
        city = self.city
        child = persons["age0"][E["psn"]] < 14
        dept = np.where(child, self.dept_child[E["prof"], E["inst"]], self.dept[E["prof"], E["inst"]])
        E["dept"] = dept
        cnt = np.where(dept >= 0, city.dept_doc_cnt[np.maximum(dept, 0)], 1)
        doc = np.where(dept >= 0, city.dept_doc_start[np.maximum(dept, 0)] + (rng.random(len(E)) * cnt).astype(int), -1)
        E["doc"] = doc


def _pick_dx(rng, cat: Catalog, prof: np.ndarray, age_y: np.ndarray, age_d: np.ndarray, gend: np.ndarray) -> np.ndarray:
    out = np.full(len(prof), -1)
    for p in np.unique(prof):
        dx = P[p]["dx"]
        if not dx:
            continue
        sel = np.nonzero(prof == p)[0]
        ids = np.array([cat.dx_idx[c] for c, _ in dx]); w = np.array([x for _, x in dx], float)
        okm = ((cat.dx_gend[ids][None] == 0) | (cat.dx_gend[ids][None] == gend[sel][:, None])) \
            & (cat.dx_age_min[ids][None] <= age_y[sel][:, None]) & (cat.dx_age_max[ids][None] > age_y[sel][:, None]) \
            & (cat.dx_age_max_days[ids][None] >= age_d[sel][:, None])
        ww = okm * w[None]
        none = ww.sum(1) == 0
        ww[none, 0] = 1.0
        c = np.cumsum(ww, 1) / ww.sum(1, keepdims=True)
        out[sel] = ids[np.minimum((rng.random(len(sel))[:, None] > c).sum(1), len(ids) - 1)]
    return out


def assemble(S: Frame, V: Frame, persons: Frame, cat: Catalog, rng: np.random.Generator, W: dict, ndays: int) -> Frame:
    """Stays + visits -> one encounter frame (times, med_type, diagnoses, operations; no institution yet)."""
    kind_s = np.array([P[p]["kind"] for p in S["prof"]], dtype=np.int64)
    kind_v = np.array([P[p]["kind"] for p in V["prof"]], dtype=np.int64)
    E = Frame(psn=np.concatenate([S["psn"], V["psn"]]), prof=np.concatenate([S["prof"], V["prof"]]),
              kind=np.concatenate([kind_s, kind_v]), d0=np.concatenate([S["d0"], V["day"]]),
              d1=np.concatenate([S["d1"], V["day"]]), ipt=np.concatenate([S["ipt"], np.zeros(len(V), np.int64)]),
              dscg=np.concatenate([S["dscg"], np.full(len(V), "", dtype=object)]),
              vno=np.concatenate([np.zeros(len(S), np.int64), V["vno"]]))
    return finish(E, persons, cat, rng, W, ndays)


def finish(E: Frame, persons: Frame, cat: Catalog, rng: np.random.Generator, W: dict, ndays: int, sessions=None) -> Frame:
    n = len(E)
    ps = E["psn"]; kind = E["kind"]; prof = E["prof"]
    # dialysis months: sessions on Mon/Wed/Fri or Tue/Thu/Sat of the month (set by caller via vno=month)
    dial = kind == K_DIAL
    E["sessions"] = np.zeros(n, np.int64) if "sessions" not in E else E["sessions"]
    if dial.any():
        wd, starts = W["wd"], W["mstart"]
        patt = persons["gidx"][ps] % 2
        die = persons["die"][ps]
        d0 = E["d0"].copy(); d1 = E["d1"].copy(); mask = E["sessions"].copy()
        for i in np.nonzero(dial)[0]:
            m = E["vno"][i]
            days = np.arange(starts[m], starts[m + 1])
            days = days[np.isin(wd[days], [0, 2, 4] if patt[i] == 0 else [1, 3, 5])]
            if die[i] >= 0:
                days = days[days < die[i]]
            if len(days) == 0:
                d0[i] = -1
                continue
            d0[i] = days[0]; d1[i] = days[-1]
            mask[i] = int(sum(1 << int(d - days[0]) for d in days))
        E["d0"], E["d1"], E["sessions"] = d0, d1, mask
        E = E.take(np.nonzero(E["d0"] >= 0)[0])
        n = len(E); ps = E["psn"]; kind = E["kind"]; prof = E["prof"]; dial = kind == K_DIAL
    brdy = persons["brdy"][ps]
    age_d = E["d0"] - brdy
    age_y = np.maximum(age_at(brdy, E["d0"], W["year"])[0], 0)      # full years on the visit day, as the rules count
    gend = persons["gend"][ps]
    E["age_y"] = np.where(persons["newborn"][ps], 0, age_y)
    dx0 = _pick_dx(rng, cat, prof, E["age_y"], age_d, gend)
    # chemo: Z51.1 with the cancer as secondary diagnosis
    dx1 = np.full(n, -1)
    chemo = prof == PROFILES["ip_chemo"]
    if chemo.any():
        ids = np.array([cat.dx_idx[c] for c, _ in CANCERS]); sx = np.array([g for _, g in CANCERS])
        g = gend[chemo]
        amin = cat.dx_age_min[ids]     # the cancer fits the patient's sex and age (youngest age of the year)

        def fit(gg, p):
            return ((sx == 0) | (sx == gg)) & (amin <= persons["age0"][p] - 1)
        choice = np.array([ids[fit(gg, p)][int(persons["gidx"][p]) % fit(gg, p).sum()] for gg, p in zip(g, ps[chemo])])
        dx1[chemo] = choice
    dx1[dial] = cat.dx_idx["D63.8"]
    dx1[prof == PROFILES["ip_icu"]] = cat.dx_idx["J18.9"]
    htn2 = persons["htn"][ps] & (kind != K_PH) & (dx1 < 0) & (rng.random(n) < 0.4) & (cat.dx_group[np.maximum(dx0, 0)] != "HTN")
    dx1[htn2] = cat.dx_idx["I10"]
    dm2 = persons["dm"][ps] & (kind != K_PH) & (dx1 < 0) & (rng.random(n) < 0.4) & (cat.dx_group[np.maximum(dx0, 0)] != "DM")
    dx1[dm2] = cat.dx_idx["E11.9"]
    E["dx0"] = dx0; E["dx1"] = dx1
    # operations
    op0 = np.full(n, -1); op1 = np.full(n, -1)
    for p in np.unique(prof):
        ops = P[p].get("ops")
        if not ops:
            continue
        sel = np.nonzero(prof == p)[0]
        for i in sel:
            code = cat.dx_code[dx0[i]]
            lst = ops.get("*") or next((v for k, v in ops.items() if code.startswith(k)), [])
            chosen = [cat.op_idx[c] for c, pr in lst if rng.random() < pr]
            chosen = [o for o in chosen if cat.op_gend[o] in (0, gend[i])]
            if chosen:
                op0[i] = chosen[0]
                if len(chosen) > 1:
                    op1[i] = chosen[1]
                elif cat.op_code[chosen[0]] == "13.4100":
                    op1[i] = cat.op_idx["13.7100"]
    E["op0"] = op0; E["op1"] = op1
    E["opday"] = np.where(kind == K_DS, 0, np.where(E["ipt"] >= 3, 1, 0))
    deliv = prof == PROFILES["ip_delivery"]
    E["opday"] = np.where(deliv, np.clip(E["d1"] - E["d0"] - 2, 0, 1), E["opday"])
    # med_type
    mt = np.empty(n, dtype=object)
    r = rng.random(n)
    for p in np.unique(prof):
        sel = prof == p
        opts = P[p].get("mt")
        k = P[p]["kind"]
        if not opts:
            opts = ("21",) if k in KIND_IP else ("11",)
        mt[sel] = np.where(r[sel] < 0.7, opts[0], opts[-1])
    E["mt"] = mt
    ins = persons["insutype"][ps].copy()
    mat = np.isin(kind, [K_MOP, K_MIP]) & (ins == "310")
    ins[mat] = "510"
    E["ins"] = ins
    E["dscg"] = np.where(np.isin(kind, list(KIND_IP)) & (E["dscg"] == ""), "1", E["dscg"])
    # times (seconds since 1 January 00:00)
    d0 = E["d0"] * 86400; d1 = E["d1"] * 86400
    ipk = np.isin(kind, list(KIND_IP))
    emerg = E["mt"] == "24"
    t0 = np.where(ipk, d0 + np.where(emerg, rng.integers(0, 86000, n), rng.integers(8 * 3600, 17 * 3600, n)),
                  d0 + rng.integers(8 * 3600, 17 * 3600, n))
    t0 = np.where(kind == K_DS, d0 + rng.integers(7 * 3600 + 1800, 9 * 3600, n), t0)
    t0 = np.where(kind == K_NET, d0 + rng.integers(0, 86000 - 1200, n), t0)
    t0 = np.where(kind == K_PH, d0 + rng.integers(8 * 3600, 21 * 3600, n), t0)
    t0 = np.where(dial, d0 + rng.integers(7 * 3600, 8 * 3600, n), t0)
    t1 = np.where(ipk, d1 + rng.integers(9 * 3600, 11 * 3600 + 1800, n), t0 + rng.integers(15 * 60, 50 * 60, n))
    t1 = np.where(kind == K_PH, t0 + rng.integers(120, 360, n), t1)
    t1 = np.where(kind == K_NET, t0 + rng.integers(300, 900, n), t1)
    t1 = np.where(dial, d1 + 12 * 3600, t1)
    E["t0"] = t0; E["t1"] = t1
    for k in ("inst", "dept", "doc", "fdoc"):
        if k not in E:
            E[k] = np.full(n, -1)
    if "scheme" not in E:
        E["scheme"] = np.full(n, -1)
    return E
