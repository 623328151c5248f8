"""Line amounts (甲/乙/丙 split) and settlements (deductible, pooling ratio, serious-illness and assistance funds)."""

from __future__ import annotations

import numpy as np

from .catalog import Catalog
from .config import K_CHR, K_DIAL, K_DS, K_MOP, K_PH, KIND_IP
from .frame import Frame
from .geo import City

DEDC = {"310": {3: 90000, 2: 60000, 1: 30000, 0: 30000}, "390": {3: 100000, 2: 60000, 1: 30000, 0: 20000}}
RATIO_IP = {"310": {3: 0.85, 2: 0.88, 1: 0.92, 0: 0.92}, "390": {3: 0.65, 2: 0.75, 1: 0.85, 0: 0.85}}
RATIO_OP = {"310": {3: 0.50, 2: 0.60, 1: 0.70, 0: 0.70}, "390": {3: 0.40, 2: 0.50, 1: 0.60, 0: 0.60}}
MAF = {"01": 0.7, "02": 1.0, "03": 1.0, "04": 0.6}
HIFMI_LINE = 300000


def line_amounts(L: Frame, cat: Catalog) -> None:
    item = L["item"]
    if "lv" not in L:
        L["lv"] = cat.lv_code[item]
        L["sp"] = cat.selfpay_bp[item]
    L["lv"] = np.where(L["lv"] < 0, cat.lv_code[item], L["lv"])
    L["sp"] = np.where(L["sp"] < 0, cat.selfpay_bp[item], L["sp"])
    det = L["cnt"] * L["pric"]
    L["det"] = det
    ful = np.where(L["lv"] == 3, det, 0)
    pre = np.where((L["lv"] != 3) & (L["sp"] > 0), (det * L["sp"] + 5000) // 10000, 0)
    L["ful"] = ful
    L["pre"] = pre
    L["inscp"] = det - ful - pre


def settle(E: Frame, L: Frame, persons: Frame, city: City, rng: np.random.Generator) -> None:
    n = len(E)
    enc = L["enc"]

    def s(col):
        return np.bincount(enc, weights=L[col], minlength=n).round().astype(np.int64)
    med, ful, pre, inscp = s("det"), s("ful"), s("pre"), s("inscp")
    grade = city.inst_grade[E["inst"]]
    kind = E["kind"]
    ins = E["ins"]
    ins_b = np.where(ins == "510", "310", ins)
    ipk = np.isin(kind, list(KIND_IP))
    dedc_std = np.array([DEDC[i][g] for i, g in zip(ins_b, grade)], dtype=np.int64)
    dedc_std = np.where(kind == K_DS, dedc_std // 2, dedc_std)
    dedc_std = np.where(ipk & (ins != "510"), dedc_std, 0)
    act_dedc = np.minimum(inscp, dedc_std)
    r_ip = np.array([RATIO_IP[i][g] for i, g in zip(ins_b, grade)])
    r_op = np.array([RATIO_OP[i][g] for i, g in zip(ins_b, grade)])
    retired = persons["psn_type"][E["psn"]] == "21"
    ratio = np.where(ipk, r_ip + 0.03 * retired, r_op + 0.10 * retired)
    ratio = np.where(np.isin(kind, [K_CHR]), np.where(ins_b == "310", 0.75, 0.60) + 0.05 * retired, ratio)
    ratio = np.where(kind == K_DIAL, np.where(ins_b == "310", 0.90, 0.75), ratio)
    ratio = np.where(kind == K_PH, np.where(ins_b == "310", 0.50, 0.40), ratio)
    ratio = np.where(ins == "510", 1.0, np.where(kind == K_MOP, 0.6, ratio))
    ratio = np.minimum(ratio, 0.95 + 0.05 * (ins == "510"))
    hifp = np.floor((inscp - act_dedc) * ratio + 0.5).astype(np.int64)
    rest = inscp - act_dedc - hifp
    hifmi = np.where(ipk & (ins == "390"), np.floor(np.maximum(0, rest - HIFMI_LINE) * 0.6 + 0.5), 0).astype(np.int64)
    idet = persons["idet"][E["psn"]]
    mrate = np.array([MAF.get(x, 0.0) for x in idet])
    eligible = np.isin(kind, [*KIND_IP, K_CHR, K_DIAL]) & (ins == "390")
    maf = np.where(eligible, np.floor((inscp - hifp - hifmi) * mrate + 0.5), 0).astype(np.int64)
    fund = hifp + hifmi + maf
    psn = med - fund
    emp = ins_b == "310"
    r = rng.random(n)
    acct = np.where(emp & ~ipk & (r < 0.75), psn, 0)
    acct = np.where(emp & ipk, np.minimum(psn, (r * 300000).astype(np.int64)), acct)
    E["medfee"], E["ful"], E["pre"], E["inscp"] = med, ful, pre, inscp
    E["dedc_std"], E["act_dedc"], E["hifp"], E["hifmi"], E["maf"] = dedc_std, act_dedc, hifp, hifmi, maf
    E["fund"], E["psn_pay"], E["acct"], E["cash"] = fund, psn, acct, psn - acct
    E["pool_self"] = rest
    with np.errstate(divide="ignore", invalid="ignore"):
        E["fratio"] = np.where(inscp > 0, fund / np.maximum(inscp, 1), 0.0)
