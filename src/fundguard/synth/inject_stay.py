"""Encounter-level injections (C01-C06) and the planted actors (ACT01-ACT09, D schemes), before fee lines exist."""

from __future__ import annotations

import numpy as np

from .config import K_IP, KIND_IP
from .encounters import finish
from .frame import Frame
from .profiles import PROFILES, P
from .truth import GT, sample_sites


class StayCtx:
    def __init__(self, E: Frame, persons: Frame, city, cat, router, rng, W, rate: float, first: bool) -> None:
        self.E, self.P, self.city, self.cat, self.router, self.rng, self.W = E, persons, city, cat, router, rng, W
        self.rate, self.first = rate, first
        self.nd = city.ndays
        self.occ = np.zeros((len(persons), self.nd + 40), bool)
        for k in range(int((E["d1"] - E["d0"]).max(initial=0)) + 1):
            m = E["d0"] + k <= E["d1"]
            self.occ[E["psn"][m], E["d0"][m] + k] = True
        self.occ[:, self.nd:] = True
        for i in np.nonzero(persons["die"] >= 0)[0]:
            self.occ[i, persons["die"][i] + 1:] = True
        for i in np.nonzero(persons["brdy"] > 0)[0]:
            self.occ[i, : persons["brdy"][i]] = True
        self.new: list[Frame] = []
        self.n_new = 0
        self.gts: list[GT] = []
        self.c02: list[int] = []

    def pick(self, idx: np.ndarray, mult: float = 1.0, cap: int | None = None) -> np.ndarray:
        return sample_sites(self.rng, self.rate, self.first, idx, mult, cap)

    def free(self, p: int, d0: int, d1: int, gap: int = 0) -> bool:
        return 0 <= d0 and d1 < self.nd and not self.occ[p, max(0, d0 - gap): d1 + gap + 1].any()

    def add(self, p, prof, d0, d1, inst, scheme=7, actor="", dx0=None, mt=None) -> int:
        """Add one encounter (index in the final frame is len(E) + position); finished in bulk by result()."""
        self.new.append({"psn": int(p), "prof": int(prof), "d0": int(d0), "d1": int(d1), "inst": int(inst), "scheme": int(scheme),
                             "dx0": -1 if dx0 is None else int(dx0), "mt": "" if mt is None else mt, "fdoc": -1})
        self.occ[p, d0: d1 + 1] = True
        idx = len(self.E) + self.n_new
        self.n_new += 1
        return idx

    def route_one(self, prof, p, cats=("priv", "dist", "city")) -> int:
        d = int(self.P["dist"][p])
        for c in cats:
            key = (prof, c, d)
            if key in self.router.cand:
                ids, cdf = self.router.cand[key]
                return int(ids[np.searchsorted(cdf, self.rng.random())])
        return int(self.router.cand[next(k for k in self.router.cand if k[0] == prof)][0][0])

    def result(self) -> Frame:
        if not self.new:
            return self.E
        col = lambda k: np.array([r[k] for r in self.new])
        prof = col("prof"); kind = np.array([P[x]["kind"] for x in prof])
        d0, d1 = col("d0"), col("d1")
        ipk = np.isin(kind, list(KIND_IP))
        F = Frame(psn=col("psn"), prof=prof, kind=kind, d0=d0, d1=d1, ipt=np.where(ipk, np.maximum(d1 - d0, 1), 0),
                  dscg=np.where(ipk, "1", "").astype(object), vno=np.zeros(len(prof), np.int64))
        F = finish(F, self.P, self.cat, self.rng, self.W, self.nd)
        F["inst"] = col("inst"); F["scheme"] = col("scheme"); F["fdoc"] = col("fdoc")
        dx = col("dx0"); has = dx >= 0
        F["dx0"] = np.where(has, dx, F["dx0"]); F["op0"] = np.where(has, -1, F["op0"]); F["op1"] = np.where(has, -1, F["op1"])
        mt = np.array([r["mt"] for r in self.new], dtype=object)
        F["mt"] = np.where(mt != "", mt, F["mt"])
        return Frame.concat([self.E, F])


def run(ctx: StayCtx) -> None:
    E, Pp, rng, city = ctx.E, ctx.P, ctx.rng, ctx.city
    ip = (E["kind"] == K_IP) & (E["prof"] != PROFILES["ip_chemo"]) & (E["scheme"] < 0)
    adult = Pp["age0"][E["psn"]] >= 18
    # C01 分解住院: readmission 2-10 days after discharge, same institution and diagnosis
    for e in ctx.pick(np.nonzero(ip & (E["dscg"] != "5"))[0], 1.0):
        p, d = int(E["psn"][e]), int(E["d1"][e]) + int(rng.integers(2, 11))
        los = int(rng.integers(3, 7))
        if ctx.free(p, d, d + los, 0) and not ctx.occ[p, d + los + 1: d + los + 17].any():
            k = ctx.add(p, int(E["prof"][e]), d, d + los, int(E["inst"][e]), 0, dx0=int(E["dx0"][e]), mt="21")
            ctx.gts.append(GT("C01", "encounter", f"出院{d - int(E['d1'][e])}天后以相同诊断再次入住同一机构，疑似分解住院", enc=k, encs=[k]))
    # C02 挂床住院: most stay days carry only bed, nursing and examination fees (applied to lines later)
    for e in ctx.pick(np.nonzero(ip & (E["ipt"] >= 5))[0], 1.0):
        E["scheme"][e] = 1
        ctx.c02.append(int(e))
        ctx.gts.append(GT("C02", "encounter", "住院期间多数天数仅有床位费、护理费、诊查费，无治疗用药记录，疑似挂床住院", enc=int(e), encs=[int(e)]))
    # C03 无指征住院: a short stay with a light diagnosis, tests and basic drugs only
    cand = np.nonzero((Pp["age0"] >= 40) & ~Pp["dial"])[0]
    for p in ctx.pick(cand, 0.3):
        d = int(rng.integers(0, ctx.nd - 10)); los = int(rng.integers(4, 7))
        if ctx.free(p, d, d + los, 16):
            k = ctx.add(p, PROFILES["ip_light"], d, d + los, ctx.route_one(PROFILES["ip_light"], p))
            ctx.gts.append(GT("C03", "encounter", "轻症诊断住院，费用以检查检验和基本药物为主，疑似无指征住院", enc=k, encs=[k]))
    # C04 冒名就医: an outpatient visit elsewhere during a stay; services after death
    for e in ctx.pick(np.nonzero(ip & (E["ipt"] >= 4) & adult)[0], 0.5):
        p = int(E["psn"][e]); d = int(E["d0"][e]) + 2
        inst = ctx.route_one(PROFILES["op_uri"], p, ("dist", "city"))
        if inst != E["inst"][e]:
            k = ctx.add(p, PROFILES["op_uri"], d, d, inst)
            ctx.gts.append(GT("C04", "encounter", "住院期间同时在其他机构门诊就医，疑似冒名就医", enc=k, encs=[k]))
    for p in ctx.pick(np.nonzero((Pp["die"] >= 0) & (Pp["die"] < ctx.nd - 20))[0], 5.0):
        d = int(Pp["die"][p]) + int(rng.integers(5, 20))
        k = ctx.add(p, PROFILES["ph_otc"], d, d, ctx.route_one(PROFILES["ph_otc"], p, ("ph",)))
        ctx.gts.append(GT("C04", "encounter", "参保人死亡后仍发生医保结算，疑似盗刷社保卡", enc=k, encs=[k]))
    # C05 频繁门诊 / 频繁购药
    # The person keeps going back to one regular pharmacy / clinic, in spells of visits every 1-3 days (套药、
    # 诱导反复就诊), 40-48 settlements in the year.
    for p in ctx.pick(np.nonzero((Pp["age0"] >= 30) & ~Pp["dial"])[0], 0.1):
        ph = rng.random() < 0.5
        prof = PROFILES["ph_otc"] if ph else PROFILES["op_msk"]
        inst = ctx.route_one(prof, p, ("ph",) if ph else ("clinic", "dist"))
        spells = int(rng.integers(3, 5))
        days = []
        for s0 in np.sort(rng.choice(ctx.nd - 70, spells, replace=False)):
            d = int(s0)
            for _ in range(20):
                days.append(d)
                d += int(rng.integers(1, 4))
        ks = []
        for d in sorted(set(days)):
            if len(ks) >= 48:
                break
            if ctx.free(p, int(d), int(d)):
                ks.append(ctx.add(p, prof, int(d), int(d), inst))
        ctx.gts.append(GT("C05", "person", f"一年内{'购药' if ph else '门诊'}{len(ks)}次以上，远超同类人群，疑似频繁{'购药' if ph else '就诊'}",
                          psn=int(p), encs=ks))
    # C06 settlements after the agreement was suspended/ended (set at routing), labelled here
    for e in np.nonzero(E["scheme"] == 6)[0]:
        ctx.gts.append(GT("C06", "encounter", "机构医保协议暂停/解除后仍发生医保结算", enc=int(e), encs=[int(e)],
                          actor="ACT06" if E["inst"][e] == city.actor["ACT06"] else ""))
