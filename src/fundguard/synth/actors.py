"""Planted bad actors (fixed whenever violations are injected): D schemes and the actors of C schemes."""

from __future__ import annotations

import numpy as np

from .config import K_IP
from .frame import Frame
from .inject_stay import StayCtx
from .profiles import PROFILES
from .truth import GT


def plant(ctx: StayCtx) -> None:
    """Chunk 0 only: ACT01 (private hospital recruiting poor villagers), ACT03, ACT04, ACT05, ACT07."""
    E, Pp, rng, city = ctx.E, ctx.P, ctx.rng, ctx.city
    wd = ctx.W["wd"]
    # ---- ACT01: weekly bursts of poor villagers, light diagnoses, near-identical bills, bed-only days
    h = city.actor["ACT01"]
    poor = np.nonzero((Pp["vil"] >= 0) & (Pp["idet"] != "") & (Pp["age0"] >= 40) & ~Pp["dial"])[0]
    if len(poor):
        vil_n = np.bincount(Pp["vil"][poor], minlength=len(city.vil_name))
        top = np.argsort(-vil_n)[:3]
        hh = np.unique(Pp["hh"][poor[np.isin(Pp["vil"][poor], top)]])
        cohort = np.nonzero(np.isin(Pp["hh"], hh) & (Pp["age0"] >= 45) & ~Pp["dial"])[0]
        cohort = np.concatenate([cohort, poor[~np.isin(poor, cohort)]])[:70]
        cohort = cohort[np.argsort(Pp["vil"][cohort], kind="stable")]
        mondays = np.nonzero(wd[: ctx.nd - 30] == 0)[0][2::2]
        stays: dict[int, list[int]] = {}
        by_day: dict[tuple[int, int], list[int]] = {}
        for d in mondays:
            got = 0
            for p in cohort:
                if got >= 10:
                    break
                if ctx.free(int(p), int(d), int(d) + 6, 16):
                    k = ctx.add(int(p), PROFILES["ip_light"], int(d), int(d) + 6, h, 2)
                    stays.setdefault(int(p), []).append(k)
                    by_day.setdefault((int(Pp["vil"][p]), int(d)), []).append(k)
                    got += 1
                    ctx.gts.append(GT("C03", "encounter", "民营医院组织农村低保/脱贫人员轻症住院，费用以检查和基本药物为主", enc=k, encs=[k], actor="ACT01"))
                    if rng.random() < 0.7:
                        ctx.c02.append(k)
                        ctx.gts.append(GT("C02", "encounter", "住院期间多数天数仅有床位费、护理费、诊查费，疑似挂床住院", enc=k, encs=[k], actor="ACT01"))
        allk = [k for v in stays.values() for k in v]
        if allk:
            ctx.gts.append(GT("D02", "institution", "每周一集中收治同批农村患者入院，入院时间高度集中", inst=h, actor="ACT01", vola=0))
            ctx.gts.append(GT("D03", "institution", "同病种住院患者出院结算金额高度接近，疑似模板化收费", inst=h, actor="ACT01", vola=0))
            ctx.gts.append(GT("D04", "group", "低保、特困、脱贫人员轻症住院集中", inst=h, encs=allk, psn_list=list(stays), actor="ACT01"))
            for p, ks in stays.items():
                if len(ks) >= 3:
                    ctx.gts.append(GT("D06", "person", f"一年内在同一民营医院住院{len(ks)}次", psn=p, inst=h, encs=ks, actor="ACT01"))
            for (v, d), ks in by_day.items():
                if len(ks) >= 3:
                    ps = [ctx.new[k - len(E)]["psn"] for k in ks]
                    ctx.gts.append(GT("D07", "group", f"{city.vil_name[v]}{len(ks)}名村民同日入住同一机构", inst=h, encs=ks, psn_list=ps, actor="ACT01"))
    # ---- ACT03: a doctor who splits admissions
    pub2 = [i for i in np.nonzero((city.inst_mtype == "11") & (city.inst_nonpub == 0) & (city.inst_grade == 2))[0]
            if (i, "A0301") in city.dept_of]
    if pub2:
        hosp = pub2[0]
        dept = city.dept_of[(hosp, "A0301")]
        doc = int(city.dept_doc_start[dept])
        cand = np.nonzero((E["prof"] == PROFILES["ip_pneu"]) & (E["scheme"] < 0) & (Pp["age0"][E["psn"]] >= 18) & (E["dscg"] != "5"))[0][:14]
        for e in cand:
            E["inst"][e] = hosp; E["fdoc"][e] = doc
            p, d = int(E["psn"][e]), int(E["d1"][e]) + int(rng.integers(1, 6))
            los = int(rng.integers(3, 7))
            if rng.random() < 0.75 and ctx.free(p, d, d + los, 0) and not ctx.occ[p, d + los + 1: d + los + 17].any():
                k = ctx.add(p, int(E["prof"][e]), d, d + los, hosp, 0, dx0=int(E["dx0"][e]), mt="21")
                ctx.new[-1]["fdoc"] = doc
                ctx.gts.append(GT("C01", "encounter", "同一医师经治患者出院后短期内以相同诊断再次入院，疑似分解住院", enc=k, encs=[k],
                                  doc=doc, actor="ACT03"))
    # ---- ACT04: staff admitted repeatedly in their own hospital
    h4 = city.actor["ACT04"]
    st = Pp["staff"]
    staff_here = np.nonzero((st >= 0) & (city.staff_inst[np.maximum(st, 0)] == h4))[0][:6]
    for p in staff_here:
        ks = []
        for d in rng.choice(ctx.nd - 10, 12, replace=False):
            if len(ks) >= 3:
                break
            if ctx.free(int(p), int(d), int(d) + 5, 16):
                ks.append(ctx.add(int(p), PROFILES["ip_spine"], int(d), int(d) + 5, h4, 3))
        if len(ks) >= 2:
            ctx.gts.append(GT("D05", "person", f"本院职工一年内在本院住院{len(ks)}次", psn=int(p), inst=h4, encs=ks, actor="ACT04"))
    # ---- ACT05: card lending ring, overlapping stays in two hospitals
    ring = np.nonzero((Pp["age0"] >= 30) & (Pp["age0"] <= 70) & ~Pp["dial"] & (Pp["die"] < 0))[0]
    done = 0
    for p in rng.permutation(ring):
        if done >= 4:
            break
        d = int(rng.integers(30, ctx.nd - 40))
        if not ctx.free(int(p), d, d + 12, 16):
            continue
        a = ctx.route_one(PROFILES["ip_light"], int(p), ("priv",))
        b = ctx.route_one(PROFILES["ip_spine"], int(p), ("city", "dist"))
        if d > city.agr_end[a] or d < city.agr_begn[a]:
            a = int(city.backup[a])          # where the stay is settled after the agreement check in city.py
        if a == b:
            continue
        ka = ctx.add(int(p), PROFILES["ip_light"], d, d + 6, a, 4)
        ctx.gts.append(GT("C03", "encounter", "轻症诊断住院，费用以检查检验和基本药物为主，疑似无指征住院", enc=ka, encs=[ka], actor="ACT05"))
        ctx.occ[p, d: d + 7] = False
        k = ctx.add(int(p), PROFILES["ip_spine"], d + 2, d + 9, b, 4)
        ctx.gts.append(GT("C04", "encounter", "同一参保人同时在两家医院住院，疑似出借医保卡/冒名住院", enc=k, encs=[k], actor="ACT05"))
        done += 1
    # ---- ACT07: high-frequency inpatients
    cand = np.nonzero((Pp["age0"] >= 50) & ~Pp["dial"] & (Pp["die"] < 0) & (Pp["staff"] < 0))[0]
    for p in rng.permutation(cand)[:200]:
        if sum(1 for g in ctx.gts if g.scheme == "D01") >= 3:
            break
        ks = []
        for d in np.sort(rng.choice(ctx.nd - 10, 120, replace=False)):
            if ctx.free(int(p), int(d), int(d) + 4, 16):
                prof = [PROFILES["ip_light"], PROFILES["ip_gi"], PROFILES["ip_spine"]][len(ks) % 3]
                ks.append(ctx.add(int(p), prof, int(d), int(d) + 4, ctx.route_one(prof, int(p), ("priv", "dist")), 5))
                if prof == PROFILES["ip_light"]:   # the light-diagnosis stays are themselves 无指征住院
                    ctx.gts.append(GT("C03", "encounter", "轻症诊断住院，费用以检查检验和基本药物为主，疑似无指征住院",
                                      enc=ks[-1], encs=[ks[-1]], actor="ACT07"))
        if len(ks) >= 6:
            ctx.gts.append(GT("D01", "person", f"一年内住院{len(ks)}次，住院频次异常", psn=int(p), encs=ks, actor="ACT07"))


def line_effects(L: Frame, E: Frame, city, cat, lm, rng) -> Frame:
    """ACT08: imaging on nearly every visit; ACT09: a drug whose use surges from July (all chunks)."""
    new = []
    m8 = np.nonzero((E["inst"] == city.actor["ACT08"]) & (E["kind"] != 3))[0]
    if len(m8):
        it = cat.ids(["ct_head", "mri_spine", "cdus_abd"])[rng.integers(0, 3, len(m8))]
        new.append(lm.finish(Frame(enc=m8, item=it, day=np.zeros(len(m8), np.int64), cnt=np.ones(len(m8), np.int64)), E, rng))
    jul = (E["d0"] >= 181)
    m9 = np.nonzero((E["inst"] == city.actor["ACT09"]) & (E["kind"] == K_IP) & jul & (rng.random(len(E)) < 0.7))[0]
    if len(m9):
        k = E["ipt"][m9]
        ee = np.repeat(m9, k); dd = np.arange(len(ee)) - np.repeat(np.cumsum(k) - k, k)
        new.append(lm.finish(Frame(enc=ee, item=np.full(len(ee), cat.id("amb_inj")), day=dd, cnt=np.full(len(ee), 2)), E, rng))
    if not new:
        return L
    F = Frame.concat(new)
    have = np.isin(F["enc"] * cat.n + F["item"], L["enc"] * cat.n + L["item"])
    F = F.take(np.nonzero(~have)[0])
    return Frame.concat([L, F])


def apply_c02(L: Frame, encs: list[int], cat) -> Frame:
    """Bed-only days: on stay days from day 2 on keep only bed, nursing and examination fees."""
    if not encs:
        return L
    keep_items = np.concatenate([cat.bed_items, cat.nurse_items, cat.ids(["ip_exam"])])
    drop = np.isin(L["enc"], encs) & (L["day"] >= 2) & ~np.isin(L["item"], keep_items)
    return L.take(np.nonzero(~drop)[0])
