"""The built-in catalogue (hilist), knowledge points and project knowledge tables as numpy lookups."""

from __future__ import annotations

import csv
import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

BUILTIN = Path(__file__).resolve().parent.parent / "kb" / "builtin"

# Self-created items (A10): codes shaped like service items but absent from the catalogue.
FAKE_ITEMS = [
    ("003401009990000", "生物电反馈治疗", "05", "次", 6000),
    ("002504099990000", "微量元素全套检测", "04", "次", 9000),
    ("003100099990000", "经络检测", "03", "次", 12000),
    ("004300099990000", "中药离子导入治疗", "05", "次", 5000),
    ("003402099990000", "超声波理疗", "05", "次", 4000),
]


def _read(name: str) -> list[dict[str, str]]:
    with open(BUILTIN / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _cents(s: str) -> int:
    return round(float(s) * 100) if s else 0


class Catalog:
    """Item arrays indexed by item id; ids 0..n_real-1 are hilist rows, then goods, then fake items."""

    def __init__(self, year: int) -> None:
        self.year = year
        rows = _read("hilist.csv")
        self.hilist_rows = rows
        y0 = dt.date(year, 1, 1)

        def day(s: str, default: int) -> int:
            if not s:
                return default
            d = dt.date.fromisoformat(s)
            d = d.replace(year=d.year + (year - 2025))
            return (d - y0).days

        code, name, lt, typ, lv, unit, key, scope, dose, freq, spec, form = ([] for _ in range(12))
        cap1, cap2, cap3, sp, pack, begn, endd, base = ([] for _ in range(8))
        for r in rows:
            code.append(r["hilist_code"]); name.append(r["hilist_name"]); lt.append(r["list_type"])
            typ.append(r["med_chrgitm_type"]); lv.append(r["chrgitm_lv"]); unit.append(r["pric_unit"])
            key.append(r["key"]); scope.append(r["prac_scope"]); dose.append(r["sin_dos_dscr"])
            freq.append(r["used_frqu_dscr"]); spec.append(r["spec"]); form.append(r["dosform_name"])
            cap1.append(_cents(r["lv1_hosp_item_pric"])); cap2.append(_cents(r["lv2_hosp_item_pric"]))
            cap3.append(_cents(r["lv3_hosp_item_pric"])); sp.append(round(float(r["selfpay_prop"]) * 10000))
            pack.append(int(r["pack_days"] or 0)); begn.append(day(r["begndate"], -10000))
            endd.append(day(r["enddate"], 10000)); base.append(int(r["bas_medn_flag"] or 0))
        self.n_real = len(rows)
        self.goods = _read("nonmed_goods.csv")
        for g in self.goods:
            code.append(g["goods_code"]); name.append(g["goods_name"]); lt.append("101"); typ.append("09")
            lv.append("01"); unit.append(g["unit"]); key.append("goods:" + g["goods_code"]); scope.append("")
            dose.append(""); freq.append(""); spec.append(""); form.append("")
            c = _cents(g["ref_price"]); cap1.append(c); cap2.append(c); cap3.append(c); sp.append(0)
            pack.append(30); begn.append(-10000); endd.append(10000); base.append(0)
        for c_, n_, t_, u_, p_ in FAKE_ITEMS:
            code.append(c_); name.append(n_); lt.append("201"); typ.append(t_); lv.append("01"); unit.append(u_)
            key.append("fake:" + c_); scope.append(""); dose.append(""); freq.append(""); spec.append(""); form.append("")
            cap1.append(p_); cap2.append(p_); cap3.append(p_); sp.append(0); pack.append(0)
            begn.append(-10000); endd.append(10000); base.append(0)
        self.code = np.array(code, dtype=object); self.name = np.array(name, dtype=object)
        self.list_type = np.array(lt, dtype=object); self.chrg_type = np.array(typ, dtype=object)
        self.chrg_lv = np.array(lv, dtype=object); self.unit = np.array(unit, dtype=object)
        self.key = key; self.scope = np.array(scope, dtype=object); self.dose = np.array(dose, dtype=object)
        self.freq = np.array(freq, dtype=object); self.spec = np.array(spec, dtype=object)
        self.form = np.array(form, dtype=object)
        self.cap = np.array([cap1, cap2, cap3], dtype=np.int64)          # [level col, item]
        self.selfpay_bp = np.array(sp, dtype=np.int64); self.pack_days = np.array(pack, dtype=np.int64)
        self.begn = np.array(begn, dtype=np.int64); self.endd = np.array(endd, dtype=np.int64)
        self.base_flag = np.array(base, dtype=np.int64)
        self.n = len(code)
        self.idx = {k: i for i, k in enumerate(key)}
        self.goods_ids = np.array([self.idx["goods:" + g["goods_code"]] for g in self.goods])
        self.fake_ids = np.array([self.idx["fake:" + f[0]] for f in FAKE_ITEMS])
        self.in_catalogue = np.arange(self.n) < self.n_real
        typ_a = self.chrg_type
        self.is_drug = np.isin(typ_a, ["09", "10", "11"]) & self.in_catalogue
        self.is_cons = (typ_a == "08") & self.in_catalogue
        self.is_herb = (typ_a == "10") & self.in_catalogue
        self.stock_tracked = self.is_drug | self.is_cons
        self.chrg_code = np.array([int(t) for t in typ_a], dtype=np.int64)
        self.lv_code = np.array([int(v) for v in self.chrg_lv], dtype=np.int64)
        # versions: successor by date (same role)
        self.successor = np.full(self.n, -1, dtype=np.int64)
        for k, i in self.idx.items():
            for suf in ("@v2", "@new"):
                if k.endswith(suf):
                    self.successor[self.idx[k[: -len(suf)]]] = i
        self._load_kb()
        self._load_tables()

    def id(self, key: str) -> int:
        return self.idx[key]

    def ids(self, keys) -> np.ndarray:
        return np.array([self.idx[k] for k in keys], dtype=np.int64)

    def ids_of_code(self, code: str) -> list[int]:
        return [i for i in range(self.n_real) if self.code[i] == code]

    # ---------------------------------------------------------------- knowledge points
    def _load_kb(self) -> None:
        n = self.n
        with open(BUILTIN / "knowledge_points.json", encoding="utf-8") as f:
            self.kps = json.load(f)
        self.gend_lim = np.zeros(n, np.int64); self.age_max_y = np.full(n, 999, np.int64)
        self.age_min_y = np.zeros(n, np.int64); self.age_max_days = np.full(n, 10 ** 6, np.int64)
        self.injury = np.zeros(n, bool); self.matern = np.zeros(n, bool); self.min_grade = np.zeros(n, np.int64)
        self.ip_only = np.zeros(n, bool); self.max_days = np.zeros(n, np.int64); self.min_interval = np.zeros(n, np.int64)
        self.icd_kp = np.full(n, -1, np.int64); self.second_line = np.full(n, -1, np.int64)
        self.herb_none = np.zeros(n, bool); self.herb_single = np.zeros(n, bool); self.net_forbid = np.zeros(n, bool)
        self.freq_day = np.zeros(n, np.int64); self.period_days = np.zeros(n, np.int64)
        self.kp_of: dict[tuple[str, int], str] = {}
        self.icd_rules: list[tuple[str, ...]] = []; self.first_line: list[np.ndarray] = []
        self.pairs: list[tuple[int, int, str]] = []; self.disc_group = np.full(n, -1, np.int64)
        self.disc_groups: list[tuple[str, float, str, np.ndarray]] = []
        for kp in self.kps:
            cls, p, kid = kp["rule_class"], kp["params"], kp["kp_id"]
            ids = [i for c in kp["med_codes"] for i in self.ids_of_code(c)]
            if cls == "医疗服务项目重复收费":
                a, b = self.ids_of_code(kp["med_codes"][0])[0], self.ids_of_code(kp["med_codes"][1])[0]
                self.pairs.append((a, b, kid)); continue
            if cls == "手术项目未按规定折价收费":
                g = len(self.disc_groups)
                self.disc_groups.append((p["group_name"], float(p["discount"]), kid, np.array(ids)))
                self.disc_group[ids] = g
                for i in ids:
                    self.kp_of[("disc", i)] = kid
                continue
            for i in ids:
                if "性别" in cls:
                    self.gend_lim[i] = int(p["gend"]); self.kp_of[("gend", i)] = kid
                elif "age_max_days" in p:
                    self.age_max_days[i] = p["age_max_days"]; self.kp_of[("age", i)] = kid
                elif "age_max" in p:
                    self.age_max_y[i] = p["age_max"]; self.age_min_y[i] = p.get("age_min", 0)
                    self.kp_of[("age", i)] = kid
                elif "工伤" in cls:
                    self.injury[i] = True; self.kp_of[("ins", i)] = kid
                elif "生育" in cls:
                    self.matern[i] = True; self.kp_of[("ins", i)] = kid
                elif "min_hosp_grade" in p:
                    self.min_grade[i] = p["min_hosp_grade"]; self.kp_of[("grade", i)] = kid
                elif "med_types" in p:
                    self.ip_only[i] = True; self.kp_of[("medtype", i)] = kid
                elif "max_days" in p:
                    self.max_days[i] = p["max_days"]; self.min_interval[i] = p.get("min_interval_days", 0)
                    self.kp_of[("course", i)] = kid
                elif "icd_prefixes" in p:
                    self.icd_kp[i] = len(self.icd_rules); self.kp_of[("icd", i)] = kid
                elif "first_line_codes" in p:
                    self.second_line[i] = len(self.first_line); self.kp_of[("line2", i)] = kid
                elif cls == "中药饮片单方使用不予支付":
                    self.herb_single[i] = True; self.kp_of[("herb", i)] = kid
                elif cls == "中药饮片单复方均不予支付":
                    self.herb_none[i] = True; self.kp_of[("herb", i)] = kid
                elif cls == "超互联网医院药品支付范围":
                    self.net_forbid[i] = True; self.kp_of[("net", i)] = kid
                elif "period_days" in p:
                    self.period_days[i] = p["period_days"]; self.kp_of[("period", i)] = kid
                elif p.get("period") == "日":
                    self.freq_day[i] = p["max_cnt"]; self.kp_of[("freq", i)] = kid
            if "icd_prefixes" in p:
                self.icd_rules.append(tuple(p["icd_prefixes"]))
            if "first_line_codes" in p:
                self.first_line.append(np.array([i for c in p["first_line_codes"] for i in self.ids_of_code(c)]))
        # successors inherit restrictions of their predecessor
        for i in np.nonzero(self.successor >= 0)[0]:
            j = self.successor[i]
            for arr in (self.gend_lim, self.age_max_y, self.min_grade, self.max_days, self.icd_kp, self.freq_day,
                        self.period_days, self.ip_only, self.net_forbid):
                arr[j] = arr[i]
        self.restricted = ((self.gend_lim > 0) | (self.age_max_y < 999) | (self.age_max_days < 10 ** 6) | self.injury
                           | self.matern | (self.min_grade > 0) | self.ip_only | (self.max_days > 0) | (self.icd_kp >= 0)
                           | (self.second_line >= 0) | self.herb_single | self.net_forbid)

    # ---------------------------------------------------------------- project knowledge tables
    def _load_tables(self) -> None:
        c2i = {}
        for i in range(self.n_real):
            c2i.setdefault(self.code[i], i)
        self.c2i = c2i
        self.canon = np.array([c2i.get(self.code[i], i) for i in range(self.n)], dtype=np.int64)
        self.included = [(c2i[r["service_code"]], c2i[r["consumable_code"]]) for r in _read("service_consumable_included.csv")]
        self.bundles: dict[int, list[int]] = {}
        for r in _read("bundle_items.csv"):
            self.bundles.setdefault(c2i[r["bundle_code"]], []).append(c2i[r["part_code"]])
        self.subs = [(c2i[r["low_code"]], c2i[r["high_code"]]) for r in _read("substitution_pairs.csv")]
        self.bed_items = np.array([c2i[r["hilist_code"]] for r in _read("bed_nursing_items.csv") if r["kind"] == "床位"])
        self.nurse_items = np.array([c2i[r["hilist_code"]] for r in _read("bed_nursing_items.csv") if r["kind"] == "护理"])
        self.scope_items = {c2i[r["hilist_code"]]: r["prac_scope"] for r in _read("item_prac_scope.csv")}
        for i in range(self.n_real):
            j = self.successor[i]
            if j >= 0 and i in self.scope_items:
                self.scope_items[int(j)] = self.scope_items[i]
        dx = _read("diagnoses.csv")
        self.dx_code = np.array([r["diag_code"] for r in dx], dtype=object)
        self.dx_name = np.array([r["diag_name"] for r in dx], dtype=object)
        self.dx_gend = np.array([int(r["gend_limit"] or 0) for r in dx])
        self.dx_age_min = np.array([int(r["age_min"] or 0) for r in dx])
        self.dx_age_max = np.array([int(r["age_max"] or 999) for r in dx])
        self.dx_age_max_days = np.array([int(r["age_max_days"] or 10 ** 6) for r in dx])
        self.dx_group = np.array([r["rel_group"] for r in dx], dtype=object)
        self.dx_light = np.array([r["light_flag"] == "1" for r in dx])
        self.dx_planned = np.array([r["planned_flag"] == "1" for r in dx])
        self.dx_idx = {r["diag_code"]: i for i, r in enumerate(dx)}
        ops = _read("operations.csv")
        self.op_code = np.array([r["oprn_oprt_code"] for r in ops], dtype=object)
        self.op_name = np.array([r["oprn_oprt_name"] for r in ops], dtype=object)
        self.op_gend = np.array([int(r["gend_limit"] or 0) for r in ops])
        self.op_item = np.array([c2i[r["hilist_code"]] for r in ops])
        self.op_idx = {r["oprn_oprt_code"]: i for i, r in enumerate(ops)}
        # dx x icd-rule match matrix
        m = np.zeros((len(dx) + 1, max(1, len(self.icd_rules))), bool)
        for j, pre in enumerate(self.icd_rules):
            for i, c in enumerate(self.dx_code):
                m[i, j] = any(c.startswith(p) for p in pre)
        self.dx_icd_match = m   # last row (index -1) = no diagnosis -> False


@lru_cache(maxsize=4)
def load_catalog(year: int) -> Catalog:
    return Catalog(year)
