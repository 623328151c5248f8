"""进销存 (purchases, opening stock) consistent with sales, C09 shortages, and doctors' orders (drord_d)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .catalog import Catalog
from .config import KIND_IP
from .frame import Frame
from .geo import City
from .writer import PRICE, QTY, STR, Clock, dec, sid, strs


def build_orders(L: Frame, E: Frame, city: City, cat: Catalog) -> Frame:
    """One order per (inpatient encounter, drug/treatment item) at hospitals that deliver 医嘱 data."""
    enc, item = L["enc"], L["item"]
    m = (np.isin(E["kind"][enc], list(KIND_IP)) & (city.inst_drord[E["inst"][enc]] == 1)
         & np.isin(cat.chrg_type[item], ["05", "09", "10", "11"]) & ~L["noord"])
    L["rxo"] = np.full(len(L), -1)
    idx = np.nonzero(m)[0]
    if not len(idx):
        return Frame(enc=np.zeros(0, np.int64), item=np.zeros(0, np.int64), rxo=np.zeros(0, np.int64),
                     cnt=np.zeros(0, np.int64), t0=np.zeros(0, np.int64), t1=np.zeros(0, np.int64), long=np.zeros(0, bool))
    key = enc[idx] * cat.n + item[idx]
    u, inv = np.unique(key, return_inverse=True)
    L["rxo"][idx] = inv
    cnt = np.bincount(inv, weights=L["cnt"][idx]).astype(np.int64)
    t0 = np.full(len(u), np.iinfo(np.int64).max); np.minimum.at(t0, inv, L["t"][idx])
    t1 = np.zeros(len(u), np.int64); np.maximum.at(t1, inv, L["t"][idx])
    nl = np.bincount(inv)
    return Frame(enc=u // cat.n, item=u % cat.n, rxo=np.arange(len(u)), cnt=cnt, t0=t0 - 600, t1=t1, long=nl > 1)


class Stock:
    """Monthly sales per (institution, item); purchases are written at the end to cover them."""

    def __init__(self, city: City, cat: Catalog, mstart: np.ndarray) -> None:
        self.city, self.cat = city, cat
        self.mstart = mstart
        self.sold = np.zeros((city.n_inst, cat.n, 12), np.int64)
        self.short: dict[tuple[int, int], list] = {}      # C09 targets -> line records

    def add(self, inst: np.ndarray, item: np.ndarray, day: np.ndarray, cnt: np.ndarray) -> None:
        item = self.cat.canon[item]
        m = self.cat.stock_tracked[item] | np.isin(item, self.cat.goods_ids)
        month = np.searchsorted(self.mstart, day[m], side="right") - 1
        np.add.at(self.sold, (inst[m], item[m], np.clip(month, 0, 11)), cnt[m])

    def tables(self, rng: np.random.Generator, clock: Clock, shortage: dict[tuple[int, int], int]) -> tuple[pa.Table, pa.Table]:
        city, cat = self.city, self.cat
        inst, item = np.nonzero(self.sold.sum(2) > 0)
        sold = self.sold[inst, item]                       # [pairs, 12]
        opening = np.ceil(sold.mean(1) * rng.uniform(0.3, 0.8, len(inst))).astype(np.int64)
        # monthly replenishment back to a working stock around the opening level (stock stays bounded; it does not
        # grow by a surplus every month): bought = sold − stock on hand + this month's target, never negative
        target = np.ceil(opening[:, None] * rng.uniform(0.8, 1.3, sold.shape)).astype(np.int64)
        buy = np.zeros_like(sold)
        on_hand = opening.copy()
        for m in range(sold.shape[1]):
            buy[:, m] = np.where(sold[:, m] > 0, np.maximum(0, sold[:, m] + target[:, m] - on_hand), 0)
            on_hand = on_hand + buy[:, m] - sold[:, m]
        for j, (i, it) in enumerate(zip(inst, item)):
            s = shortage.get((int(i), int(it)))
            if s is not None:                              # C09: purchases cover only part of the sales
                opening[j] = 0
                buy[j] = np.floor(sold[j] * s).astype(np.int64)
        pi, pm = np.nonzero(buy > 0)
        qty = buy[pi, pm]
        day = self.mstart[pm] + rng.integers(0, 3, len(pi))
        t = day * 86400 + rng.integers(8 * 3600, 11 * 3600, len(pi))
        o = np.lexsort((t, inst[pi]))
        pi, pm, qty, t = pi[o], pm[o], qty[o], t[o]
        ii, it = inst[pi], item[pi]
        spl = np.array(["江海医药股份有限公司", "国药控股江海有限公司", "华润江海医药有限公司", "江海众康医疗器械有限公司"], dtype=object)
        purc = pa.table({
            "purc_id": sid("CG", np.arange(len(pi)), 10), "fixmedins_code": strs(city.inst_code, ii),
            "hilist_code": strs(cat.code, it), "hilist_name": strs(cat.name, it), "purc_cnt": dec(qty, QTY, 10000),
            "finl_trns_pric": dec(city.purc_price[ii, it], PRICE, 10000), "purc_time": clock.ts(t),
            "spler_name": strs(spl, np.where(cat.is_cons[it], 3, (ii + it) % 3)),
            "manu_lotnum": sid("B" + str(clock.y0.year)[2:], (it * 7 + pm) % 100000, 6)})
        invt = pa.table({
            "fixmedins_code": strs(city.inst_code, inst), "hilist_code": strs(cat.code, item),
            "hilist_name": strs(cat.name, item), "invdate": clock.date(np.zeros(len(inst), np.int64)),
            "inv_cnt": dec(opening, QTY, 10000), "memo": pa.array(np.full(len(inst), "期初盘存", dtype=object), STR)})
        return purc, invt
