"""The city: districts, towns, villages, institutions (medins_info), departments, doctors and staff."""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import names as nm

DISTRICTS = [("320602", "海东区", True), ("320611", "江北区", True), ("320612", "通安区", True),
             ("320623", "如平县", False), ("320681", "启明市", False), ("320682", "皋城市", False), ("320685", "安海市", False)]
DEPT_NAMES = {"A0200": "全科医疗科", "A0300": "内科", "A0301": "呼吸内科", "A0302": "消化内科", "A0303": "神经内科",
              "A0304": "心血管内科", "A0306": "肾病学科", "A0307": "内分泌科", "A0400": "外科", "A0401": "普通外科",
              "A0403": "骨科", "A0404": "泌尿外科", "A0405": "胸外科", "A0500": "妇产科", "A0501": "妇科", "A0502": "产科",
              "A0700": "儿科", "A0701": "新生儿科", "A1000": "眼科", "A1100": "耳鼻咽喉科", "A1200": "口腔科", "A1300": "皮肤科",
              "A1900": "肿瘤科", "A2000": "急诊医学科", "A2100": "康复医学科", "A2600": "麻醉科", "A2800": "重症医学科",
              "A3000": "医学检验科", "A3200": "医学影像科", "A5000": "中医科"}
SUBDEPTS = {"A03": ["A0300", "A0301", "A0302", "A0303", "A0304", "A0306", "A0307"], "A04": ["A0400", "A0401", "A0403", "A0404", "A0405"],
            "A05": ["A0500", "A0501", "A0502"], "A07": ["A0700", "A0701"]}
SCOPES = {
    "gen3": "A03;A04;A05;A07;A10;A11;A12;A13;A19;A20;A21;A26;A28;A30;A32;A50",
    "gen2": "A03;A04;A05;A07;A10;A11;A12;A13;A20;A21;A26;A28;A30;A32;A50",
    "tcm": "A03;A04;A05;A07;A20;A21;A26;A30;A32;A50",
    "onc": "A03;A04;A19;A26;A28;A30;A32",
    "mch": "A05;A07;A21;A26;A30;A32",
    "eye": "A10;A26;A30;A32",
    "priv2": "A03;A04;A05;A20;A21;A26;A30;A32;A50",
    "priv1": "A03;A04;A21;A30;A32;A50",
    "thc": "A02;A03;A04;A05;A07;A21;A30;A32;A50",
    "chc": "A02;A03;A21;A30;A32;A50",
    "vc": "A02",
    "opd": "A03;A04;A30;A32",
    "dent": "A12",
    "tcmc": "A50",
    "gp": "A02;A03",
    "net": "A02;A03;A13;A50",
    "ph": "",
}
TITLES_DR = ["主任医师", "副主任医师", "主治医师", "医师", "医师"]
TITLES_NS = ["主任护师", "副主任护师", "主管护师", "护师", "护士"]


class City:
    def __init__(self, persons: int, rng: np.random.Generator, year: int, rate: float) -> None:
        self.year = year
        self.y0 = dt.date(year, 1, 1)
        self.ndays = (dt.date(year + 1, 1, 1) - self.y0).days
        self._geography(persons, rng)
        self._institutions(persons, rng, rate)
        self._departments(rng)

    # ------------------------------------------------------------ geography
    def _geography(self, persons: int, rng: np.random.Generator) -> None:
        n_vil = int(np.clip(persons * 0.42 / 650, 12, 900))
        n_town = int(np.clip(n_vil / 9, 5, 60))
        n_street = int(np.clip(persons * 0.58 / 9000, 4, 40))
        d_rural = [i for i, d in enumerate(DISTRICTS) if not d[2]]
        d_urban = [i for i, d in enumerate(DISTRICTS) if d[2]]
        self.town_district = np.array([d_rural[i % len(d_rural)] for i in range(n_town)])
        self.town_name = [nm.TOWN_NAMES[i % len(nm.TOWN_NAMES)] + ("镇" if i < len(nm.TOWN_NAMES) else f"{i}镇") for i in range(n_town)]
        self.town_code = np.array([100 + i for i in range(n_town)])
        self.street_district = np.array([(d_urban + d_rural)[i % len(DISTRICTS)] for i in range(n_street)])
        self.street_name = [nm.STREET_NAMES[i % len(nm.STREET_NAMES)] + "街道" for i in range(n_street)]
        self.street_code = np.array([1 + i for i in range(n_street)])
        self.vil_town = np.sort(rng.integers(0, n_town, n_vil))
        self.vil_town[:n_town] = np.arange(n_town)
        self.vil_town.sort()
        seq = np.zeros(n_vil, int)
        for t in range(n_town):
            m = self.vil_town == t
            seq[m] = np.arange(m.sum())
        self.vil_name = [nm.VILLAGE_NAMES[(seq[i] * 7 + t) % len(nm.VILLAGE_NAMES)] + "村" for i, t in enumerate(self.vil_town)]
        self.vil_code = np.array([f"{DISTRICTS[self.town_district[t]][0]}{self.town_code[t]:03d}{200 + s:03d}"
                                  for t, s in zip(self.vil_town, seq)], dtype=object)
        self.vil_addr = np.array([f"江海市{DISTRICTS[self.town_district[t]][1]}{self.town_name[t]}{self.vil_name[i]}"
                                  for i, t in enumerate(self.vil_town)], dtype=object)

    # ------------------------------------------------------------ institutions
    def _institutions(self, persons: int, rng: np.random.Generator, rate: float) -> None:
        rows: list[dict] = []

        def add(name, mtype, lv, nonpub, dist, scope, beds=0, town=-1, street=-1, vil=-1, size=1.0, ftype=1, **kw):
            rows.append(dict(name=name, mtype=mtype, lv=lv, nonpub=nonpub, dist=dist, scope=SCOPES[scope], beds=beds,
                             town=town, street=street, vil=vil, size=size, ftype=ftype, **kw))

        add("江海市第一人民医院", "11", "02", 0, 0, "gen3", 2200, size=12, drord=1)
        add("江海市第二人民医院", "11", "02", 0, 1, "gen3", 1500, size=9, drord=1)
        add("江海市中医院", "12", "02", 0, 0, "tcm", 1000, size=6, drord=1)
        add("江海市肿瘤医院", "13", "03", 0, 2, "onc", 800, size=3, drord=1)
        add("江海市妇幼保健院", "13", "03", 0, 1, "mch", 600, size=4)
        for k in range(int(np.clip(round(persons / 70000), 0, 8))):
            add(f"江海大学附属第{'一二三四五六七八'[k]}医院", "11", "02", 0, k % 3, "gen3", 1200, size=8, drord=1)
        for d, (code, dname, urban) in enumerate(DISTRICTS):
            add(f"{dname}人民医院", "11", "05", 0, d, "gen2", 700, size=6, drord=int(d % 2 == 0))
            if not urban:
                add(f"{dname}中医院", "12", "05", 0, d, "tcm", 400, size=3)
        priv2 = ["江海仁爱医院", "江海康泰医院", "江海博爱医院", "江海华山医院", "江海同济医院", "江海和美医院", "江海安康医院", "江海济民医院"]
        for k in range(int(np.clip(round(persons / 40000), 3, 8))):
            add(priv2[k], "11", "06", 1, (k + 1) % len(DISTRICTS), "priv2", 200, size=2)
        add("江海明视眼科医院", "13", "06", 1, 0, "eye", 80, size=1.5)
        priv1 = ["仁和医院", "慈济医院", "福康医院", "泰和医院", "益寿医院", "德馨医院", "安泰医院", "同心医院", "永康医院",
                 "百姓医院", "惠民医院", "长青医院"]
        for k in range(int(np.clip(round(persons / 25000), 3, 12))):
            d = 3 + k % 4
            add(f"{DISTRICTS[d][1]}{priv1[k]}", "11", "08" if k % 2 == 0 else "09", 1, d, "priv1", 60, size=1.2)
        for t in range(len(self.town_name)):
            d = int(self.town_district[t])
            add(f"{DISTRICTS[d][1]}{self.town_name[t]}卫生院", "21", ["08", "09", "11"][t % 3], 0, d, "thc", 40, town=t, size=1.5)
        for s in range(len(self.street_name)):
            d = int(self.street_district[s])
            add(f"{DISTRICTS[d][1]}{self.street_name[s]}社区卫生服务中心", "22", ["09", "11"][s % 2], 0, d, "chc", 0, street=s, size=1.5)
        vc_of = np.zeros(len(self.vil_name), int)
        for v in range(len(self.vil_name)):
            if v % 2 == 0 or self.vil_town[v] != self.vil_town[v - 1]:
                t = int(self.vil_town[v])
                add(f"{self.town_name[t]}{self.vil_name[v]}卫生室", "23", "11", 0, int(self.town_district[t]), "vc", town=t, vil=v)
            vc_of[v] = len(rows) - 1
        self.vil_clinic = vc_of
        kinds = [("门诊部", "opd"), ("口腔诊所", "dent"), ("中医诊所", "tcmc"), ("诊所", "gp")]
        shop = ["康华", "德济", "仁心", "惠康", "民生", "协和", "光华", "同仁", "益生", "万和", "顺康", "永春", "杏林", "济世", "和平"]
        for k in range(int(np.clip(round(persons / 6000), 4, 60))):
            kn, sc = kinds[k % 4]
            add(f"江海{shop[k % 15]}{kn}" + (f"{k // 15 + 1}部" if k >= 15 else ""), "31", "11", 1, k % len(DISTRICTS), sc, size=0.8)
        add("江海云医互联网医院", "41", "11", 1, 0, "net", size=1.0)
        chains = ["百姓康大药房", "仁济堂药店", "同心大药房", "益民药房", "康复之家药房", "惠仁大药房"]
        for k in range(int(np.clip(round(persons / 2500), 6, 160))):
            add(f"{chains[k % 6]}({DISTRICTS[k % 7][1]}{k // 6 + 1}店)", "51", "11", 1, k % len(DISTRICTS), "ph", size=1.0, ftype=2)
        n = len(rows)
        self.n_inst = n
        self.inst_name = np.array([r["name"] for r in rows], dtype=object)
        self.inst_mtype = np.array([r["mtype"] for r in rows], dtype=object)
        self.inst_lv = np.array([r["lv"] for r in rows], dtype=object)
        lvn = np.array([int(x) for x in self.inst_lv])
        self.inst_grade = np.where(lvn <= 4, 3, np.where(lvn <= 7, 2, np.where(lvn <= 10, 1, 0)))
        self.inst_lvcol = np.clip(self.inst_grade - 1, 0, 2)
        self.inst_nonpub = np.array([r["nonpub"] for r in rows])
        self.inst_dist = np.array([r["dist"] for r in rows])
        self.inst_town = np.array([r["town"] for r in rows])
        self.inst_street = np.array([r["street"] for r in rows])
        self.inst_vil = np.array([r["vil"] for r in rows])
        self.inst_size = np.array([r["size"] for r in rows], float)
        self.inst_ftype = np.array([r["ftype"] for r in rows])
        self.inst_scope = [r["scope"] for r in rows]
        self.inst_scope_set = [set(s.split(";")) if s else set() for s in self.inst_scope]
        self.inst_beds = np.array([r["beds"] for r in rows])
        self.inst_drord = np.array([r.get("drord", 0) for r in rows])
        self.inst_admdvs = np.array([DISTRICTS[r["dist"]][0] for r in rows], dtype=object)
        seqs: dict[tuple[str, str], int] = {}
        codes = []
        for r, adm in zip(rows, self.inst_admdvs):
            p = "P" if r["ftype"] == 2 else "H"
            seqs[(p, adm)] = seqs.get((p, adm), 0) + 1
            codes.append(f"{p}{adm}{seqs[(p, adm)] * 37 % 100000:05d}")
        self.inst_code = np.array(codes, dtype=object)
        assert len(set(codes)) == n
        addr = []
        for r in rows:
            dname = DISTRICTS[r["dist"]][1]
            if r["vil"] >= 0:
                addr.append(self.vil_addr[r["vil"]] + "村委会旁")
            elif r["town"] >= 0:
                addr.append(f"江海市{dname}{self.town_name[r['town']]}人民路{rng.integers(1, 200)}号")
            else:
                addr.append(f"江海市{dname}{nm.ROADS[rng.integers(0, len(nm.ROADS))]}{rng.integers(1, 500)}号")
        self.inst_addr = np.array(addr, dtype=object)
        # agreements
        begn = [dt.date(2010 + int(x), 1 + int(m), 1) for x, m in zip(rng.integers(0, 14, n), rng.integers(0, 12, n))]
        self.agr_begn = np.array([(b - self.y0).days for b in begn])
        self.agr_end = np.full(n, (dt.date(self.year + 2, 12, 31) - self.y0).days)
        self.agr_status = np.array(["1"] * n, dtype=object)
        mt = self.inst_mtype
        priv1_ids = np.nonzero((mt == "11") & (self.inst_nonpub == 1) & (self.inst_grade == 1))[0]
        priv2_ids = np.nonzero((mt == "11") & (self.inst_nonpub == 1) & (self.inst_grade == 2))[0]
        ph_ids = np.nonzero(mt == "51")[0]
        pub2 = np.nonzero((mt == "11") & (self.inst_nonpub == 0) & (self.inst_grade == 2))[0]
        clinics = np.nonzero(mt == "31")[0]
        self.actor = {"ACT01": int(priv1_ids[0]), "ACT06": int(priv1_ids[1]), "ACT02": int(ph_ids[1]),
                      "ACT04": int(priv2_ids[0]), "ACT08": int(priv2_ids[1]), "ACT09": int(pub2[1])}
        self.agr_status[self.actor["ACT06"]] = "2"
        self.agr_end[self.actor["ACT06"]] = (dt.date(self.year, 6, 30) - self.y0).days
        self.agr_status[priv1_ids[2]] = "3"
        self.agr_end[priv1_ids[2]] = (dt.date(self.year, 9, 15) - self.y0).days
        self.agr_status[clinics[1]] = "2"
        self.agr_end[clinics[1]] = (dt.date(self.year, 8, 31) - self.y0).days
        self.agr_status[ph_ids[-1]] = "3"
        self.agr_end[ph_ids[-1]] = (dt.date(self.year, 4, 30) - self.y0).days
        self.agr_begn[ph_ids[-2]] = (dt.date(self.year, 4, 1) - self.y0).days
        self.backup = np.arange(n)
        for i in np.nonzero((self.agr_end < self.ndays) | (self.agr_begn > 0))[0]:
            same = np.nonzero((mt == mt[i]) & (self.agr_end >= self.ndays) & (self.agr_begn <= 0)
                              & (self.inst_grade >= self.inst_grade[i]))[0]
            sup = [j for j in same if self.inst_scope_set[i] <= self.inst_scope_set[j]]
            if not sup:
                sup = [j for j in pub2 if self.inst_scope_set[i] <= self.inst_scope_set[j]]
            self.backup[i] = sup[0]
        self.rate = rate

    # ------------------------------------------------------------ departments and doctors
    def _departments(self, rng: np.random.Generator) -> None:
        d_inst, d_code = [], []
        for i in range(self.n_inst):
            if self.inst_ftype[i] == 2:
                continue
            big = self.inst_mtype[i] in ("11", "12", "13") and self.inst_grade[i] >= 2
            for s in self.inst_scope[i].split(";"):
                codes = SUBDEPTS.get(s, [s + "00"]) if big else [s + "00"]
                for c in codes:
                    d_inst.append(i); d_code.append(c)
        self.dept_inst = np.array(d_inst); self.dept_code = np.array(d_code, dtype=object)
        self.dept_name = np.array([DEPT_NAMES[c] for c in d_code], dtype=object)
        self.dept_of = {(i, c): k for k, (i, c) in enumerate(zip(d_inst, d_code))}
        # doctors
        doc_dept, doc_title = [], []
        start = np.zeros(len(d_inst), int); cnt = np.zeros(len(d_inst), int)
        for k, i in enumerate(d_inst):
            g = self.inst_grade[i]
            c = d_code[k]
            if c in ("A3000", "A3200"):
                m = 1
            elif self.inst_mtype[i] in ("23", "31", "41"):
                m = {"23": 1, "31": 2, "41": 4}[self.inst_mtype[i]]
            else:
                m = {3: 5, 2: 4, 1: 2, 0: 2}[int(g)]
            start[k] = len(doc_dept); cnt[k] = m
            for j in range(m):
                doc_dept.append(k); doc_title.append(TITLES_DR[min(j, 4)] if g >= 2 else TITLES_DR[2 + min(j, 2)])
        self.dept_doc_start, self.dept_doc_cnt = start, cnt
        self.doc_dept = np.array(doc_dept); self.doc_inst = self.dept_inst[self.doc_dept]
        self.doc_title = np.array(doc_title, dtype=object)
        nd = len(doc_dept)
        self.doc_gend = rng.integers(1, 3, nd)
        self.doc_name = nm.masked_names(rng, self.doc_gend)
        self.doc_code = np.array([f"D{self.inst_admdvs[i]}{(k * 7919 + 1301) % 1000000:06d}" for k, i in enumerate(self.doc_inst)],
                                 dtype=object)
        assert len(set(self.doc_code)) == nd
        # other staff: nurses, pharmacists, technicians, other employees (linkable to insured persons)
        s_inst, s_type, s_dept, s_title, s_code = [], [], [], [], []
        k = 0
        for i in range(self.n_inst):
            adm = self.inst_admdvs[i]
            depts = np.nonzero(self.dept_inst == i)[0]
            clin = [d for d in depts if self.dept_code[d] not in ("A3000", "A3200")]
            if self.inst_ftype[i] == 2:
                plan = [("3", -1)] * 2 + [("9", -1)] * 2
            elif self.inst_mtype[i] in ("23",):
                plan = []
            else:
                nn = {3: 3, 2: 3, 1: 2, 0: 1}[int(self.inst_grade[i])]
                plan = [("2", d) for d in clin for _ in range(nn)][: 90]
                plan += [("3", -1)] * (1 + int(self.inst_grade[i]))
                plan += [("4", d) for d in depts if self.dept_code[d] in ("A3000", "A3200")]
                plan += [("9", -1)] * (2 + int(self.inst_grade[i]))
            for t, d in plan:
                k += 1
                pre = {"2": "N", "3": "HY", "4": "HJ", "9": "GQ"}[t]
                s_inst.append(i); s_type.append(t); s_dept.append(d)
                s_title.append({"2": TITLES_NS[min(len(s_inst) % 5, 4)], "3": "主管药师", "4": "主管技师", "9": ""}[t])
                s_code.append(f"{pre}{adm}{(k * 104729 + 77) % 1000000:06d}")
        self.staff_inst = np.array(s_inst); self.staff_type = np.array(s_type, dtype=object)
        self.staff_dept = np.array(s_dept); self.staff_title = np.array(s_title, dtype=object)
        self.staff_code = np.array(s_code, dtype=object)
        ns = len(s_inst)
        self.staff_psn = np.full(ns, "", dtype=object)
        self.staff_name = nm.masked_names(rng, rng.integers(1, 3, ns))
        act = self.actor["ACT04"]
        order = rng.permutation(ns)
        first = order[self.staff_inst[order] == act][:8]
        self.staff_pool = np.concatenate([first, order[~np.isin(order, first)]])
        self.staff_begn = np.array([dt.date(2000 + int(x), 1 + int(m), 1) for x, m in zip(rng.integers(0, 24, ns), rng.integers(0, 12, ns))])

    # ------------------------------------------------------------ helpers
    def dept(self, inst: int, prefs: list[str]) -> int:
        for c in prefs:
            k = self.dept_of.get((inst, c))
            if k is not None:
                return k
            k = self.dept_of.get((inst, c[:3] + "00"))
            if k is not None:
                return k
        k = self.dept_of.get((inst, "A0200"))
        if k is not None:
            return k
        ks = np.nonzero(self.dept_inst == inst)[0]
        return int(ks[0]) if len(ks) else -1
