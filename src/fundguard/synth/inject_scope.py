"""Line-level injections, part B (超医保支付范围 B01-B12) and the line-level C schemes (C07, C08)."""

from __future__ import annotations

import numpy as np

from .config import K_CHR, K_NET, K_OP, K_PH
from .inject_charge import Ctx
from .profiles import PROFILES


def _add_one(ctx: Ctx, scheme: str, encs: np.ndarray, items: np.ndarray, targets: set, note, kpkey: str, day=None, cnt=None,
             mult: float = 1.0, **extra) -> None:
    cat = ctx.cat
    enc = ctx.pick(encs, mult)
    if not len(enc):
        return
    it = items[ctx.rng.integers(0, len(items), len(enc))]
    d = np.zeros(len(enc)) if day is None else day(enc)
    c = np.ones(len(enc)) if cnt is None else cnt(enc)
    F = ctx.make(enc, it, d, c, **{k: (v(enc) if callable(v) else v) for k, v in extra.items()})
    F = F.take(np.nonzero(ctx.check(F, targets))[0])
    ctx.commit(F, scheme, "line", note, kp=lambda i: cat.kp_of.get((kpkey, int(i)), ""))


REFILL_TOLERANCE = 5    # B12: an early refill within this many days of the end of a supply is normal


def _b12_refills(ctx: Ctx, F) -> None:
    """The person's later dispensations of the same drug while the injected long supply still lasts are 重复开药.

    Normal prescriptions never reach the next dispensing visit (``constraints.cap_prescriptions``), but a 60-90 day
    supply does: the regular monthly visits that follow hand out the same drug again. Those lines are labelled B12 too.
    """
    from .truth import GT
    cat, L, E = ctx.cat, ctx.L, ctx.E
    code15 = np.array([c[:15] for c in cat.code], dtype=object)
    outk = np.isin(E["kind"], [K_OP, K_CHR, K_PH, K_NET])
    for j in range(len(F)):
        e, it, t0, prd = int(F["enc"][j]), int(F["item"][j]), int(F["t"][j]), int(F["prd"][j])
        d0 = t0 // 86400
        later = np.nonzero((E["psn"][L["enc"]] == E["psn"][e]) & (L["enc"] != e) & ~ctx.drop & outk[L["enc"]]
                           & (code15[L["item"]] == code15[it]) & (L["t"] > t0) & (cat.lv_code[L["item"]] != 3))[0]
        for i in later:
            left = d0 + prd - int(L["t"][i]) // 86400
            if left <= REFILL_TOLERANCE:
                continue
            det = int(L["pric"][i] * L["cnt"][i]); lp = int(L["prd"][i])
            vola = det if lp <= 0 or left >= lp else det * left // lp
            ctx.gts.append(GT("B12", "line", f"前次超量开药{prd}天尚余{left}天未用完，再次开具{cat.name[L['item'][i]]}（重复开药）",
                              enc=int(L["enc"][i]), uids=L["uid"][[i]], vola=vola))


def run_first(ctx: Ctx) -> None:
    cat, L, E = ctx.cat, ctx.L, ctx.E
    name = lambda i: cat.name[i]
    # B06 course longer than paid
    for key in ("edaravone", "xst_inj"):
        it = cat.id(key)
        have = np.unique(L["enc"][(L["item"] == it)])
        cand = have[(E["ipt"][have] >= 15) & ~ctx.taken[have]]
        enc = ctx.pick(cand, 3.0)
        if len(enc):
            k = E["ipt"][enc] - 14
            ee = np.repeat(enc, k); dd = 14 + np.arange(len(ee)) - np.repeat(np.cumsum(k) - k, k)
            miss = ~np.isin(ee * 1000 + dd, L["enc"][L["item"] == it] * 1000 + L["day"][L["item"] == it])
            F = ctx.make(ee[miss], np.full(miss.sum(), it), dd[miss], np.full(miss.sum(), 2 if key == "edaravone" else 1))
            ok = ctx.check(F, {"course"})
            F = F.take(np.nonzero(ok)[0])
            ctx.commit(F, "B06", "line", f"{name(it)}使用超过限定支付疗程14天", kp=cat.kp_of.get(("course", it), ""))


def run(ctx: Ctx) -> None:
    cat, L, E, P, city, rng = ctx.cat, ctx.L, ctx.E, ctx.P, ctx.city, ctx.rng
    name = lambda i: cat.name[i]
    ps = E["psn"]
    g = P["gend"][ps]
    op = np.isin(E["kind"], [K_OP]) & ~ctx.taken
    hosp = ctx.hosp[E["inst"]]
    # B01 gender
    male_items = cat.ids(["tamsulosin", "finasteride", "psa"]); female_items = cat.ids(["clotri_vag", "progesterone", "ca125"])
    _add_one(ctx, "B01", np.nonzero(op & hosp & (g == 2) & (E["age_y"] >= 18))[0], male_items, {"gend"},
             "女性患者使用限男性药品/项目", "gend", mult=0.5)
    _add_one(ctx, "B01", np.nonzero(op & hosp & (g == 1) & (E["age_y"] >= 18) & ~ctx.taken)[0], female_items, {"gend"},
             "男性患者使用限女性药品/项目", "gend", mult=0.5)
    # B02 children / newborn / age limits
    _add_one(ctx, "B02", np.nonzero(op & (E["age_y"] >= 20) & ~ctx.taken)[0], cat.ids(["peds_apap", "monte_chew", "peds_feike", "peds_ibu"]),
             {"age"}, "成年患者使用儿童专用/限儿童药品", "age")
    rehab = np.nonzero((E["prof"] == PROFILES["ip_rehab"]) & (E["age_y"] >= 62) & ~ctx.taken)[0]
    _add_one(ctx, "B02", rehab, cat.ids(["pt_voc"]), {"age"}, "超过法定劳动年龄患者收取职业功能训练", "age",
             day=lambda e: np.minimum(3, E["ipt"][e] - 1), mult=3)
    # B03 injury / maternity insurance only
    _add_one(ctx, "B03", np.nonzero(op & hosp & ~ctx.taken)[0], cat.ids(["egf_gel", "ssd_cream"]), {"ins"},
             "限工伤保险药品由基本医疗保险基金支付", "ins", mult=0.3)
    dl = np.nonzero((E["prof"] == PROFILES["ip_delivery"]) & (E["ins"] == "390") & ~ctx.taken)[0]
    _add_one(ctx, "B03", dl, cat.ids(["dinoprostone"]), {"ins"}, "限生育保险药品由城乡居民医保基金支付", "ins", mult=3)
    # B04 institution level
    low = city.inst_grade[E["inst"]] <= 1
    _add_one(ctx, "B04", np.nonzero(op & low & (city.inst_ftype[E["inst"]] == 1) & (E["age_y"] >= 14) & ~ctx.taken)[0],
             cat.ids(["cefop_sul", "danhong"]), {"grade"}, "一级及以下医疗机构使用限二级及以上机构药品", "grade", mult=0.3)
    # B05 inpatient-only drug in outpatient
    _add_one(ctx, "B05", np.nonzero(op & hosp & (E["age_y"] >= 14) & ~ctx.taken)[0], cat.ids(["mp_inj"]), {"medtype"},
             "门诊使用限住院药品", "medtype", mult=0.3)
    # B07 indication
    _add_one(ctx, "B07", np.nonzero(op & hosp & (E["age_y"] >= 18) & ~ctx.taken)[0], cat.ids(["glucosamine", "clopidogrel", "alendronate", "mecobalamin"]),
             {"icd"}, "无限定适应症诊断使用限适应症药品", "icd", mult=0.3)
    # B08 second line without first line
    ip_adult = np.nonzero(ctx.ipk & hosp & (E["age_y"] >= 18) & (city.inst_grade[E["inst"]] >= 2) & ~ctx.taken)[0]
    fl = np.isin(L["item"], np.concatenate(cat.first_line))
    ip_adult = ip_adult[~np.isin(ip_adult, L["enc"][fl])]
    # nor any first-line use by the person in the year before (at any institution): the rule looks back 365 days
    fl_days: dict[int, list[int]] = {}
    for i in np.nonzero(fl & ~ctx.drop)[0]:
        fl_days.setdefault(int(ps[L["enc"][i]]), []).append(int(L["t"][i] // 86400))
    ip_adult = np.array([e for e in ip_adult if not any(0 <= E["d0"][e] - d <= 365 for d in fl_days.get(int(ps[e]), []))],
                        np.int64)
    _add_one(ctx, "B08", ip_adult, cat.ids(["moxi_inj"]), {"line2"}, "无一线抗菌药物使用记录直接使用限二线药品", "line2", mult=0.2)
    # B09 herbs not payable
    tcm = np.nonzero((E["prof"] == PROFILES["op_tcm"]) & ~ctx.taken)[0]
    _add_one(ctx, "B09", tcm, cat.ids(["h_xiyangshen", "h_chongcao", "h_lurong", "h_hongshen"]), {"herb"},
             "单复方均不予支付的中药饮片纳入基金支付", "herb", cnt=lambda e: np.full(len(e), 21), mult=2, lv=1, sp=0)
    gi = np.nonzero(op & hosp & ~np.isin(E["prof"], [PROFILES["op_tcm"]]) & ~ctx.taken)[0]
    _add_one(ctx, "B09", gi, cat.ids(["h_ejiao", "h_gouqi", "h_dazao"]), {"herb"}, "单方使用不予支付的中药饮片单独开具并由基金支付",
             "herb", cnt=lambda e: np.full(len(e), 42), mult=0.1)
    # B10 internet hospital
    net = np.nonzero((E["kind"] == K_NET) & ~ctx.taken)[0]
    _add_one(ctx, "B10", net, cat.ids(["estazolam", "zolpidem", "tramadol"]), {"net"}, "互联网医院复诊开具精神/麻醉药品并由基金支付",
             "net", mult=3)
    # B11 diagnosis specific to the other sex (伪造患者信息)
    from .truth import GT
    for gsrc, code, text in ((2, "N41.1", "女性患者诊断为慢性前列腺炎"), (1, "N76.0", "男性患者诊断为急性阴道炎")):
        for e in ctx.pick(np.nonzero(op & (g == gsrc) & (E["age_y"] >= 18) & ~ctx.taken)[0], 0.1):
            E["dx1"][e] = E["dx0"][e]; E["dx0"][e] = cat.dx_idx[code]
            ctx.taken[e] = True
            ctx.gts.append(GT("B11", "encounter", text + "，诊断与患者性别不符", enc=int(e), encs=[int(e)]))
    # B12 超量开药: a chronic prescription for 60-90 days
    chrl = np.nonzero((E["kind"][L["enc"]] == K_CHR) & (L["prd"] > 0) & ~ctx.drop & ~ctx.taken[L["enc"]])[0]
    src = ctx.pick_lines(chrl, 0.5)
    src = src[np.unique(L["enc"][src], return_index=True)[1]]
    if len(src):
        F = L.take(src).copy()
        F["prd"] = rng.integers(60, 91, len(F))
        pk = np.maximum(cat.pack_days[F["item"]], 1)
        F["cnt"] = -(-F["prd"] // pk)
        ctx.drop[src] = True
        det = F["cnt"] * F["pric"]
        ctx.commit(F, "B12", "line", lambda e, r: f"门诊慢特病单次开药{F['prd'][r[0]]}天，超过30天限量",
                   vola=det * (F["prd"] - 30) // F["prd"])
        _b12_refills(ctx, F)
    # C07 超诊疗范围: imaging / dental items at institutions not licensed for them
    noimg = np.array(["A32" not in s for s in city.inst_scope_set])[E["inst"]] & (city.inst_ftype[E["inst"]] == 1)
    _add_one(ctx, "C07", np.nonzero(op & noimg & (E["kind"] != K_NET) & ~ctx.taken)[0], cat.ids(["ct_head", "cdus_abd", "xr_chest"]),
             {"scope"}, "未取得医学影像科诊疗科目的机构开展影像检查", "scope", mult=1.0)
    nodent = np.array(["A12" not in s for s in city.inst_scope_set])[E["inst"]] & (city.inst_ftype[E["inst"]] == 1)
    _add_one(ctx, "C07", np.nonzero(op & nodent & ~noimg & hosp & ~ctx.taken)[0], cat.ids(["op_fill", "op_rct"]), {"scope"},
             "未取得口腔科诊疗科目的机构开展口腔治疗", "scope", mult=0.1)
    # C08 pharmacies selling daily goods and cosmetics (planted pharmacy in every chunk, others at the rate)
    ph = (E["kind"] == K_PH) & ~ctx.taken
    act = E["inst"] == city.actor["ACT02"]
    goods = cat.goods_ids
    for mask, mult, actor in ((ph & ~act, 0.5, ""), (ph & act, 15.0, "ACT02")):
        enc = ctx.pick(np.nonzero(mask)[0], mult)
        if not len(enc):
            continue
        F = ctx.make(enc, goods[rng.integers(0, len(goods), len(enc))], np.zeros(len(enc)), rng.integers(1, 3, len(enc)))
        F = F.take(np.nonzero(ctx.check(F, {"valid"}))[0])
        ctx.commit(F, "C08", "line", lambda e, r, F=F: f"定点药店以医保卡结算生活用品/化妆品“{name(F['item'][r[0]])}”", actor=actor)
