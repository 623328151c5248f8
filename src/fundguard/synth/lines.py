"""Fee lines of encounters: template expansion, herbs, operations, dates, prices (all vectorised per profile)."""

from __future__ import annotations

import re

import numpy as np

from .catalog import Catalog
from .config import K_CHR, K_DIAL, K_MOP, K_NET, K_OP, K_PH, KIND_IP
from .frame import Frame
from .geo import City
from .profiles import PROFILES, E, P

HERBS_COMMON = ["h_huangqi", "h_danggui", "h_dangshen", "h_baizhu", "h_fuling", "h_gancao", "h_chuanxiong", "h_baishao",
                "h_shudi", "h_chaihu", "h_banxia", "h_huangqin", "h_danshen", "h_duzhong", "h_niuxi", "h_gegen", "h_guizhi",
                "h_maidong", "h_wuweizi", "h_suanzaoren", "h_sanqi"]
HERBS_SINGLE = ["h_chenpi", "h_gouqi", "h_dazao", "h_shanyao", "h_juhua", "h_baihe", "h_ejiao", "h_bohe"]
HERBS_NONE = ["h_chongcao", "h_xiyangshen", "h_lurong", "h_haima", "h_xihonghua", "h_hongshen"]


def make_prices(city: City, cat: Catalog, rng: np.random.Generator) -> None:
    """Institution price of every item (cents) and purchase price of stocked items."""
    n, m = city.n_inst, cat.n
    cap = cat.cap[city.inst_lvcol]                       # [inst, item]
    f = np.ones((n, m))
    svc = cat.list_type == "201"
    priv = city.inst_nonpub == 1
    f[np.ix_(priv, svc)] = rng.uniform(0.85, 1.0, (priv.sum(), svc.sum()))
    drug = cat.is_drug | np.isin(np.arange(m), cat.goods_ids)
    hosp = city.inst_ftype == 1
    f[np.ix_(hosp, drug)] = rng.uniform(0.88, 1.0, (hosp.sum(), drug.sum()))
    f[np.ix_(~hosp, drug)] = rng.uniform(0.82, 1.0, ((~hosp).sum(), drug.sum()))
    f[:, cat.is_cons] = rng.uniform(0.70, 0.90, (n, cat.is_cons.sum()))
    price = np.floor(cap * f).astype(np.int64)
    price[np.ix_(priv, svc)] = price[np.ix_(priv, svc)] // 10 * 10
    city.price = np.maximum(price, 1)
    purc = city.price.copy()
    purc[~hosp] = np.floor(city.price[~hosp] * rng.uniform(0.7, 0.85, ((~hosp).sum(), m))).astype(np.int64)
    city.purc_price = np.maximum(purc, 1)


def _dose_g(s: str) -> int:
    m = re.match(r"(\d+)", s or "")
    return int(m.group(1)) if m else 10


class LineMaker:
    def __init__(self, city: City, cat: Catalog) -> None:
        self.city, self.cat = city, cat
        self.tpl = []
        for prof in P:
            rows = []
            extra = [E(prof["nurse"], 1, "D")] if prof.get("nurse") else []
            for items, p, mode, c, cond in prof.get("items", []) + extra:
                ids = cat.ids(items)
                lo, hi = (c, c) if isinstance(c, int) else c
                rows.append((ids, p, mode, lo, hi, cond))
            self.tpl.append(rows)
        self.herb_common = cat.ids(HERBS_COMMON); self.herb_single = cat.ids(HERBS_SINGLE); self.herb_none = cat.ids(HERBS_NONE)
        self.herb_dose = np.array([_dose_g(d) for d in cat.dose])
        self.hosp_inst = np.isin(city.inst_mtype, ["11", "12", "13"])

    def _cond(self, cond, E, sel, persons) -> np.ndarray:
        cat = self.cat
        if cond is None:
            return np.ones(len(sel), bool)
        ps = E["psn"][sel]
        if cond == "child":
            return E["age_y"][sel] < 14
        if cond == "adult":
            return E["age_y"][sel] >= 14
        if cond == "u6":
            return E["age_y"][sel] < 6
        if cond in ("M", "F"):
            return persons["gend"][ps] == (1 if cond == "M" else 2)
        if cond == "s510":
            return E["ins"][sel] == "510"
        if cond == "hosp":
            return self.hosp_inst[E["inst"][sel]]
        if cond == "base":
            return ~self.hosp_inst[E["inst"][sel]]
        if cond == "hba1c":
            return E["vno"][sel] % 4 == 0
        if cond == "op":
            return E["op0"][sel] >= 0
        if cond == "ga":
            return (E["op0"][sel] >= 0) & ~np.isin(cat.op_code[np.maximum(E["op0"][sel], 0)], ["98.5100", "73.5900", "74.1x00", "13.4100", "45.4200", "60.2900"])
        if cond.startswith("dx:"):
            return np.array([c.startswith(cond[3:]) for c in cat.dx_code[np.maximum(E["dx0"][sel], 0)]]) & (E["dx0"][sel] >= 0)
        if cond.startswith("op:"):
            code = cond[3:]
            return (cat.op_code[np.maximum(E["op0"][sel], 0)] == code) | (cat.op_code[np.maximum(E["op1"][sel], 0)] == code)
        raise ValueError(cond)

    def make(self, E: Frame, persons: Frame, rng: np.random.Generator) -> Frame:
        cat = self.cat
        n = len(E)
        parts = []
        prd_enc = np.zeros(n, np.int64)
        for p in np.unique(E["prof"]):
            prof = P[p]
            if "prd" in prof:
                sel = np.nonzero(E["prof"] == p)[0]
                prd_enc[sel] = rng.integers(prof["prd"][0], prof["prd"][1] + 1, len(sel))
        E["prd"] = prd_enc
        for p in np.unique(E["prof"]):
            sel_all = np.nonzero(E["prof"] == p)[0]
            ip = P[p]["kind"] in KIND_IP
            dial = P[p]["kind"] == K_DIAL
            for ids, prob, mode, lo, hi, cond in self.tpl[p]:
                sel = sel_all[(rng.random(len(sel_all)) < prob) & self._cond(cond, E, sel_all, persons)]
                if mode in ("O", "P"):
                    sel = sel[E["op0"][sel] >= 0]
                if not len(sel):
                    continue
                item = ids[rng.integers(0, len(ids), len(sel))]
                cnt = rng.integers(lo, hi + 1, len(sel))
                if dial and mode == "S":
                    masks = E["sessions"][sel]
                    bits = ((masks[:, None] >> np.arange(31)[None]) & 1).astype(bool)
                    r, dd = np.nonzero(bits)
                    parts.append((sel[r], item[r], dd, cnt[r]))
                    continue
                if not ip:
                    parts.append((sel, item, np.zeros(len(sel), np.int64), cnt))
                    continue
                nd = E["ipt"][sel]
                if mode == "D":
                    r = np.repeat(np.arange(len(sel)), nd); dd = np.arange(len(r)) - np.repeat(np.cumsum(nd) - nd, nd)
                elif mode in ("F", "L", "P", "W"):
                    if mode == "F":
                        st = np.zeros(len(sel), np.int64); k = np.minimum(nd, rng.integers(3, 8, len(sel)))
                    elif mode == "L":
                        st = np.full(len(sel), 3); k = np.maximum(nd - 3, 0)
                    elif mode == "P":
                        st = E["opday"][sel]; k = np.clip(nd - st, 0, 3)
                    else:
                        st = np.zeros(len(sel), np.int64); k = (nd + 6) // 7
                    r = np.repeat(np.arange(len(sel)), k)
                    dd = np.repeat(st, k) + (np.arange(len(r)) - np.repeat(np.cumsum(k) - k, k)) * (7 if mode == "W" else 1)
                elif mode == "A":
                    r = np.arange(len(sel)); dd = np.zeros(len(sel), np.int64)
                elif mode == "O":
                    r = np.arange(len(sel)); dd = E["opday"][sel]
                elif mode == "R":
                    r = np.arange(len(sel)); dd = (rng.random(len(sel)) * nd).astype(np.int64)
                elif mode == "X":
                    r = np.arange(len(sel)); dd = nd - 1
                else:
                    raise ValueError(mode)
                parts.append((sel[r], item[r], dd, cnt[r]))
        # operations (second operation of the same group at the discounted price)
        for col in ("op0", "op1"):
            sel = np.nonzero(E[col] >= 0)[0]
            if col == "op1":
                sel = sel[cat.op_item[E["op1"][sel]] != cat.op_item[E["op0"][sel]]]
            if len(sel):
                parts.append((sel, cat.op_item[E[col][sel]], E["opday"][sel], np.ones(len(sel), np.int64)))
        # herbal prescriptions (TCM clinics): 5-9 herbs, 7 doses
        tcm = np.nonzero(E["prof"] == PROFILES["op_tcm"])[0]
        for i in tcm:
            k = rng.integers(4, 8)
            hs = list(rng.choice(self.herb_common, k, replace=False))
            hs += list(rng.choice(self.herb_single, rng.integers(1, 3), replace=False))
            if rng.random() < 0.08:
                hs.append(rng.choice(self.herb_none))
            hs = np.array(hs)
            parts.append((np.full(len(hs), i), hs, np.zeros(len(hs), np.int64), self.herb_dose[hs] * 7))
        enc = np.concatenate([x[0] for x in parts]); item = np.concatenate([x[1] for x in parts])
        day = np.concatenate([x[2] for x in parts]); cnt = np.concatenate([x[3] for x in parts]).astype(np.int64)
        L = Frame(enc=enc, item=item, day=day, cnt=cnt)
        o1 = E["op1"][enc]
        g1 = cat.disc_group[item]
        L["disc"] = (o1 >= 0) & (item == cat.op_item[np.maximum(o1, 0)]) & (g1 >= 0) & (
            g1 == cat.disc_group[cat.op_item[np.maximum(E["op0"][enc], 0)]])
        return self.finish(L, E, rng)

    def finish(self, L: Frame, E: Frame, rng: np.random.Generator) -> Frame:
        """Times, catalogue versions, prescription days and prices of lines (also used for injected lines)."""
        cat, city = self.cat, self.city
        enc, item, day = L["enc"], L["item"], L["day"]
        kind = E["kind"][enc]
        ipk = np.isin(kind, list(KIND_IP))
        t0, t1 = E["t0"][enc], E["t1"][enc]
        dstart = (E["d0"][enc] + day) * 86400
        r = rng.random(len(L))
        t = np.where(day == 0, t0 + 60 + (r * np.minimum(3 * 3600, np.maximum(dstart + 86399 - t0 - 60, 1))).astype(np.int64),
                     dstart + 10 + (r * 20 * 3600).astype(np.int64))
        is_op = (cat.chrg_type[item] == "06")
        t = np.where(ipk & is_op & (day > 0), dstart + 8 * 3600 + (r * 8 * 3600).astype(np.int64), t)
        t = np.where(~ipk, t0 + 30 + (r * np.maximum(np.minimum(t1 - t0 - 60, 25 * 60), 1)).astype(np.int64), t)
        dial = kind == 2
        t = np.where(dial, dstart + 8 * 3600 + (r * 3 * 3600).astype(np.int64), t)
        if "t" in L:
            t = np.where(L["t"] > 0, L["t"], t)
        L["t"] = t
        absday = t // 86400
        succ = cat.successor[item]
        sw = (succ >= 0) & (absday >= cat.begn[np.maximum(succ, 0)])
        item = np.where(sw, succ, item)
        L["item"] = item
        inst = E["inst"][enc]
        L["pric"] = city.price[inst, item]
        if "disc" in L:
            L["pric"] = np.where(L["disc"], (L["pric"] + 1) // 2, L["pric"])
        L["cap"] = cat.cap[city.inst_lvcol[inst], item]
        drug = cat.is_drug[item] & ~cat.is_herb[item]
        opl = np.isin(kind, [K_OP, K_CHR, K_PH, K_NET, K_MOP]) & drug
        prd = np.where(opl, E["prd"][enc], 0)
        pk = cat.pack_days[item]
        L["cnt"] = np.where(opl & (pk > 0), np.maximum(1, -(-prd // np.maximum(pk, 1))), L["cnt"])
        L["prd"] = np.where(cat.is_herb[item] & np.isin(kind, [K_OP]), 7, prd)
        for k, v in (("inj", -1), ("gt", -1)):
            if k not in L:
                L[k] = np.full(len(L), v)
        for k in ("noord", "disc"):
            if k not in L:
                L[k] = np.zeros(len(L), bool)
        return L
