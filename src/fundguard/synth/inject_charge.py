"""Line-level injections, part A (收费类 A01-A12), and the shared injection context."""

from __future__ import annotations

import numpy as np

from .catalog import Catalog
from .config import KIND_IP
from .constraints import masks
from .frame import Frame
from .geo import City
from .truth import GT, sample_sites


class Ctx:
    def __init__(self, L: Frame, E: Frame, P: Frame, city: City, cat: Catalog, lm, rng, rate: float, first: bool) -> None:
        self.L, self.E, self.P, self.city, self.cat, self.lm, self.rng = L, E, P, city, cat, lm, rng
        self.rate, self.first = rate, first
        self.gts: list[GT] = []
        self.taken = np.zeros(len(E), bool)
        self.taken[E["scheme"] >= 0] = True
        self.drop = np.zeros(len(L), bool)
        self.new: list[Frame] = []
        self.uid_next = int(L["uid"].max(initial=-1)) + 1
        self.ipk = np.isin(E["kind"], list(KIND_IP))
        self.a11: list[tuple[int, int, int, int, int]] = []     # A11 targets (hospital, low, high, first, last day)
        self.hosp = np.isin(city.inst_mtype, ["11", "12", "13"])

    def pick(self, idx: np.ndarray, mult: float = 1.0, cap: int | None = None) -> np.ndarray:
        return sample_sites(self.rng, self.rate, self.first, idx, mult, cap)

    def pick_lines(self, line_idx: np.ndarray, mult: float = 1.0) -> np.ndarray:
        """Pick encounters among those owning eligible lines, then one eligible line of each."""
        line_idx = np.asarray(line_idx, np.int64)
        if not len(line_idx):
            return line_idx
        encs = self.pick(self.L["enc"][line_idx], mult)
        sel = line_idx[np.isin(self.L["enc"][line_idx], encs)]
        sel = self.rng.permutation(sel)
        _, first = np.unique(self.L["enc"][sel], return_index=True)
        return np.sort(sel[first])

    def free_encs(self, mask: np.ndarray) -> np.ndarray:
        return np.nonzero(mask & ~self.taken)[0]

    def lines_of(self, item_mask: np.ndarray) -> np.ndarray:
        """Indices of current (not dropped) lines whose encounter is free."""
        return np.nonzero(item_mask & ~self.drop & ~self.taken[self.L["enc"]])[0]

    def make(self, enc, item, day, cnt, t=None, **extra) -> Frame:
        F = Frame(enc=np.asarray(enc, np.int64), item=np.asarray(item, np.int64), day=np.asarray(day, np.int64),
                  cnt=np.asarray(cnt, np.int64))
        if t is not None:
            F["t"] = np.asarray(t, np.int64)
        for k, v in extra.items():
            F[k] = v
        F = self.lm.finish(F, self.E, self.rng)
        return F

    def check(self, F: Frame, targets: set[str], replace: np.ndarray | None = None) -> np.ndarray:
        """Rows of F that break exactly the target masks (other lines of their encounters as context)."""
        L = self.L
        ctx = np.nonzero(np.isin(L["enc"], F["enc"]) & ~self.drop)[0]
        if replace is not None:
            ctx = ctx[~np.isin(ctx, replace)]
        keys = ["enc", "item", "day", "cnt", "t", "pric", "cap", "prd"]
        sub = Frame.concat([Frame(**{k: L[k][ctx] for k in keys}), Frame(**{k: F[k] for k in keys})])
        m = masks(sub, self.E, self.P, self.city, self.cat)
        off = len(ctx)
        ok = np.ones(len(F), bool)
        hit = np.zeros(len(F), bool)
        for name, v in m.items():
            v = v[off:]
            if name in targets:
                hit |= v
            else:
                ok &= ~v
        return ok & (hit if targets else True)

    def commit(self, F: Frame, scheme: str, level: str, note: str, vola=None, kp: str = "", actor: str = "",
               per_enc: bool = True) -> None:
        if not len(F):
            return
        F["uid"] = np.arange(self.uid_next, self.uid_next + len(F))
        self.uid_next += len(F)
        F["inj"] = np.full(len(F), 1)
        self.new.append(F)
        encs = np.unique(F["enc"])
        self.taken[encs] = True
        if per_enc:
            for e in encs:
                rows = np.nonzero(F["enc"] == e)[0]
                v = None if vola is None else int(np.sum(vola[rows]))
                self.gts.append(GT(scheme, level, note(e, rows) if callable(note) else note, enc=int(e),
                                   uids=F["uid"][rows], vola=v, kp=kp(F["item"][rows[0]]) if callable(kp) else kp, actor=actor))

    def apply(self) -> Frame:
        keep = np.nonzero(~self.drop)[0]
        L = Frame.concat([self.L.take(keep)] + self.new)
        return L


def run(ctx: Ctx) -> None:
    cat, L, E, city, rng = ctx.cat, ctx.L, ctx.E, ctx.city, ctx.rng
    name = lambda i: cat.name[i]
    # A01 重复收费: partner item of a published pair on the same day
    for a, b, kp in cat.pairs:
        src = ctx.pick_lines(ctx.lines_of(L["item"] == a), 1.0)
        src = src[np.unique(L["enc"][src], return_index=True)[1]]
        if len(src):
            F = ctx.make(L["enc"][src], np.full(len(src), b), L["day"][src], np.ones(len(src)), L["t"][src] + 60)
            F = F.take(np.nonzero(ctx.check(F, {"pair", "freq"}))[0])
            ctx.commit(F, "A01", "line", f"{name(a)}与{name(b)}同日同时收费，属重复收费", kp=kp)
    # A02 不可单独收费的耗材
    for s, c in cat.included:
        src = ctx.pick_lines(ctx.lines_of(L["item"] == s), 1.0)
        src = src[np.unique(L["enc"][src], return_index=True)[1]]
        if len(src):
            F = ctx.make(L["enc"][src], np.full(len(src), c), L["day"][src], np.ones(len(src)), L["t"][src] + 30)
            F = F.take(np.nonzero(ctx.check(F, {"included"}))[0])
            ctx.commit(F, "A02", "line", f"{name(s)}价格已含{name(c)}，另行收取耗材费")
    # A03 分解收费: the bundle replaced by its parts
    for b, parts in cat.bundles.items():
        src = ctx.pick_lines(ctx.lines_of(L["item"] == b), 1.0)
        src = src[np.unique(L["enc"][src], return_index=True)[1]]
        # only a bundle charged once that day is replaced (a second bundle line would stay beside its parts)
        bl = np.nonzero((L["item"] == b) & ~ctx.drop)[0]
        kb = L["enc"][bl] * 400 + L["t"][bl] // 86400
        ks = L["enc"][src] * 400 + L["t"][src] // 86400
        src = src[np.array([(kb == k).sum() == 1 for k in ks], bool)] if len(src) else src
        if not len(src):
            continue
        F = ctx.make(np.repeat(L["enc"][src], len(parts)), np.tile(parts, len(src)), np.repeat(L["day"][src], len(parts)),
                     np.ones(len(src) * len(parts)), np.repeat(L["t"][src], len(parts)))
        ok = ctx.check(F, {"bundle"}, replace=src)
        good = [e for e in np.unique(F["enc"]) if ok[F["enc"] == e].all()]
        sel = np.isin(F["enc"], good)
        F = F.take(np.nonzero(sel)[0])
        ctx.drop[src[np.isin(L["enc"][src], good)]] = True
        bundle_fee = {int(L["enc"][i]): int(L["pric"][i] * L["cnt"][i]) for i in src}
        vola = F["pric"] * F["cnt"]
        for e in good:
            r = F["enc"] == e
            tot = vola[r].sum()
            vola[r] = vola[r] * max(tot - bundle_fee[int(e)], 0) // max(tot, 1)
        ctx.commit(F, "A03", "line", f"{name(b)}拆分为{len(parts)}个单项分别收费", vola=vola)
    # A04 超限定单价 (service items)
    src = ctx.pick_lines(ctx.lines_of((cat.list_type[L["item"]] == "201") & (L["pric"] > 0) & (L["cap"] > 0)), 0.3)
    src = src[np.unique(L["enc"][src], return_index=True)[1]]
    if len(src):
        F = L.take(src).copy()
        F["pric"] = (F["cap"] * rng.uniform(1.15, 1.6, len(F))).astype(np.int64)
        F["uplmt"] = np.where(rng.random(len(F)) < 0.3, F["pric"], F["cap"])
        F["lv"] = cat.lv_code[F["item"]]; F["sp"] = cat.selfpay_bp[F["item"]]
        ok = ctx.check(F, {"price"}, replace=src)
        F = F.take(np.nonzero(ok)[0]); ctx.drop[src[ok]] = True
        ctx.commit(F, "A04", "line", lambda e, r: f"{name(F['item'][r[0]])}单价高于本级医疗机构限价收费",
                   vola=(F["pric"] - F["cap"]) * F["cnt"])
    # A05 手术未折价
    src = ctx.pick_lines(ctx.lines_of(L["disc"]), 3.0)
    if len(src):
        F = L.take(src).copy()
        F["disc"] = np.zeros(len(F), bool)
        F["pric"] = city.price[E["inst"][F["enc"]], F["item"]]
        ctx.drop[src] = True
        ctx.commit(F, "A05", "line", lambda e, r: f"同一切口第二项手术{name(F['item'][r[0]])}未按50%折价收费",
                   vola=(F["pric"] - (F["pric"] + 1) // 2) * F["cnt"], kp=lambda i: cat.kp_of.get(("disc", int(i)), ""))
    # A06 超限定频次 (hourly items above 24 h a day) and 周期超频次 (HbA1c within 90 days)
    hourly = np.isin(L["item"], cat.ids(["ecg_mon", "oxygen", "nur_icu"]))
    src = ctx.pick_lines(ctx.lines_of(hourly), 1.0)
    src = src[np.unique(L["enc"][src], return_index=True)[1]]
    if len(src):
        F = L.take(src).copy()
        F["cnt"] = cat.freq_day[F["item"]] + rng.integers(4, 13, len(F))
        ok = ctx.check(F, {"freq"}, replace=src)
        F = F.take(np.nonzero(ok)[0]); ctx.drop[src[ok]] = True
        ctx.commit(F, "A06", "line", lambda e, r: f"{name(F['item'][r[0]])}单日计费{F['cnt'][r[0]]}小时，超过每日24小时",
                   vola=(F["cnt"] - cat.freq_day[F["item"]]) * F["pric"], kp=lambda i: cat.kp_of.get(("freq", int(i)), ""))
    hb = cat.id("hba1c")
    from .profiles import PROFILES
    chr_dm = np.nonzero((E["prof"] == PROFILES["chr_dm"]) & (E["vno"] % 4 == 1) & ~ctx.taken)[0]
    # only where the person's previous test lies within the period (otherwise the extra test would be allowed)
    hbl = np.nonzero((L["item"] == hb) & ~ctx.drop)[0]
    hb_days: dict[int, np.ndarray] = {}
    for i in hbl:
        hb_days.setdefault(int(E["psn"][L["enc"][i]]), []).append(int(L["t"][i] // 86400))
    per = int(cat.period_days[hb])
    chr_dm = np.array([e for e in chr_dm if any(0 < E["d0"][e] - d < per for d in hb_days.get(int(E["psn"][e]), []))],
                      np.int64)
    chr_dm = ctx.pick(chr_dm, 1.0)
    if len(chr_dm):
        F = ctx.make(chr_dm, np.full(len(chr_dm), hb), np.zeros(len(chr_dm)), np.ones(len(chr_dm)))
        F = F.take(np.nonzero(ctx.check(F, set()))[0])
        ctx.commit(F, "A06", "line", "糖化血红蛋白距上次检测不足90天再次收费", kp=cat.kp_of.get(("period", hb), ""))
        # the person's next regular test falling within 90 days of the extra one is a second charge in that window
        for j in range(len(F)):
            ps = E["psn"][F["enc"][j]]
            nxt = np.nonzero((L["item"] == hb) & ~ctx.drop & (E["psn"][L["enc"]] == ps) & (L["t"] > F["t"][j])
                             & (L["t"] // 86400 - F["t"][j] // 86400 < per))[0]
            for i in nxt:
                ctx.gts.append(GT("A06", "line", "糖化血红蛋白距上次（额外）检测不足90天再次收费", enc=int(L["enc"][i]),
                                  uids=L["uid"][[i]], kp=cat.kp_of.get(("period", hb), "")))
    # A07 计费日期在住院期间之外
    src = ctx.pick_lines(ctx.lines_of(ctx.ipk[L["enc"]] & np.isin(cat.chrg_type[L["item"]], ["05", "09", "11", "04"])), 0.25)
    src = src[np.unique(L["enc"][src], return_index=True)[1]]
    if len(src):
        F = L.take(src).copy()
        F["t"] = E["t1"][F["enc"]] + rng.integers(86400, 3 * 86400, len(F))
        ok = ctx.check(F, {"time"}, replace=src)
        F = F.take(np.nonzero(ok)[0]); ctx.drop[src[ok]] = True
        ctx.commit(F, "A07", "line", "出院后仍发生计费，计费日期与住院时间不符")
    # A08 床位费天数超住院天数: one more bed day billed on the discharge day
    bed = np.isin(L["item"], cat.bed_items) & (L["day"] == 0)
    src = ctx.pick_lines(ctx.lines_of(bed & ctx.ipk[L["enc"]] & (E["ipt"][L["enc"]] >= 2)), 1.0)
    if len(src):
        e = L["enc"][src]
        F = ctx.make(e, L["item"][src], E["ipt"][e], np.ones(len(src)), E["d1"][e] * 86400 + 30)
        F = F.take(np.nonzero(ctx.check(F, set()))[0])
        ctx.commit(F, "A08", "line", lambda e, r: f"床位费计费{E['ipt'][e] + 1}天，超过实际住院{E['ipt'][e]}天")
    # A09 耗材加价
    inst = E["inst"][L["enc"]]
    cons = cat.is_cons[L["item"]] & (city.inst_ftype[inst] == 1) & (city.purc_price[inst, L["item"]] * 115 // 100 < L["cap"])
    src = ctx.pick_lines(ctx.lines_of(cons), 1.0)
    src = src[np.unique(L["enc"][src], return_index=True)[1]]
    if len(src):
        F = L.take(src).copy()
        pp = city.purc_price[E["inst"][F["enc"]], F["item"]]
        F["pric"] = np.minimum((pp * rng.uniform(1.15, 1.4, len(F))).astype(np.int64), F["cap"])
        ok = ctx.check(F, {"markup"}, replace=src) & (F["pric"] > pp)
        F = F.take(np.nonzero(ok)[0]); ctx.drop[src[ok]] = True
        pp = city.purc_price[E["inst"][F["enc"]], F["item"]]
        ctx.commit(F, "A09", "line", lambda e, r: f"{name(F['item'][r[0]])}销售价高于采购价，违反零差率政策", vola=(F["pric"] - pp) * F["cnt"])
    # A10 自创项目 / 目录外项目
    enc = ctx.pick(ctx.free_encs(ctx.hosp[E["inst"]] & (E["kind"] != 3)), 0.3)
    if len(enc):
        fk = cat.fake_ids[rng.integers(0, len(cat.fake_ids), len(enc))]
        F = ctx.make(enc, fk, np.zeros(len(enc)), np.ones(len(enc)))
        F = F.take(np.nonzero(ctx.check(F, {"valid"}))[0])
        ctx.commit(F, "A10", "line", lambda e, r: f"收取目录外自立项目“{name(F['item'][r[0]])}”")
    # A11 串换: a hospital bills the low-price drug/consumable it actually uses as the high-price one of a
    # substitution pair, for a few months; purchases stay those of the low-price item (one row per hospital and item)
    for inst, lo, hi, d0, d1 in ctx.a11:
        day = L["t"] // 86400
        src = ctx.lines_of((L["item"] == lo) & (E["inst"][L["enc"]] == inst) & (day >= d0) & (day <= d1))
        if not len(src):
            continue
        F = L.take(src).copy()
        F["item"] = np.full(len(F), hi)
        F["pric"] = city.price[inst, np.full(len(F), hi)]; F["cap"] = cat.cap[city.inst_lvcol[inst], np.full(len(F), hi)]
        F["lv"] = cat.lv_code[F["item"]]; F["sp"] = cat.selfpay_bp[F["item"]]
        F["stock_item"] = np.full(len(F), lo)
        ok = ctx.check(F, set(), replace=src) & (F["pric"] > L["pric"][src])
        F = F.take(np.nonzero(ok)[0]); lo_p = L["pric"][src[ok]]; ctx.drop[src[ok]] = True
        if not len(F):
            continue
        vola = (F["pric"] - lo_p) * F["cnt"]
        ctx.commit(F, "A11", "institution", "", per_enc=False)
        ctx.gts.append(GT("A11", "institution", f"{int(F['cnt'].sum())}{cat.unit[lo]}{name(lo)}按{name(hi)}收费(低价套高价)，"
                          f"进货为{name(lo)}", inst=inst, item=hi, uids=F["uid"], vola=int(vola.sum())))
    # A12 收费无对应医嘱
    drugl = np.isin(cat.chrg_type[L["item"]], ["09", "05"]) & ctx.ipk[L["enc"]] & (city.inst_drord[E["inst"][L["enc"]]] == 1)
    src = ctx.pick_lines(ctx.lines_of(drugl & (cat.max_days[L["item"]] == 0) & (cat.freq_day[L["item"]] == 0)), 0.3)
    src = src[np.unique(L["enc"][src], return_index=True)[1]]
    if len(src):
        e = L["enc"][src]
        d = np.maximum(E["ipt"][e] - 1, 0)
        extra = cat.ids(["dexa_inj", "furo_inj", "kcl", "vitk1"])
        have = set((L["enc"] * cat.n + L["item"]).tolist())
        it = np.array([next((x for x in rng.permutation(extra) if int(ee) * cat.n + int(x) not in have), -1) for ee in e],
                      np.int64)
        present = it < 0       # every extra drug already ordered in that stay
        e, d, it = e[~present], d[~present], it[~present]
        F = ctx.make(e, it, d, np.ones(len(e)), noord=np.ones(len(e), bool))
        F = F.take(np.nonzero(ctx.check(F, set()))[0])
        ctx.commit(F, "A12", "line", lambda e, r: f"{name(F['item'][r[0]])}收费无对应医嘱")
