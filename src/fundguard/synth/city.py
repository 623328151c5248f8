"""generate_city: the chunked, deterministic pipeline that writes the synthetic city."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import asdict

import numpy as np
import pyarrow as pa

from . import actors, constraints, inject_charge, inject_scope, inject_stay, tables_out, timeline
from .catalog import load_catalog
from .config import GENERATOR_VERSION, KIND_IP, SynthConfig, SynthSummary
from .encounters import Router, assemble
from .frame import Frame
from .geo import City
from .lines import LineMaker, make_prices
from .population import make_persons
from .settle import line_amounts, settle
from .stock import Stock, build_orders
from .truth import GT, Truth
from .writer import Clock, Sink

LINES_PER_PERSON = 80


def _link_staff(city: City, persons: Frame, chunk: int, n_chunks: int, rng) -> None:
    pool = city.staff_pool
    per = -(-len(pool) // n_chunks)
    mine = pool[chunk * per: (chunk + 1) * per]
    emp = np.nonzero((persons["psn_type"] == "11") & (persons["age0"] >= 22) & (persons["age0"] <= 55))[0]
    emp = rng.permutation(emp)[: len(mine)]
    mine = mine[: len(emp)]
    for s, p in zip(mine, emp):
        city.staff_psn[s] = persons["psn_no"][p]
        city.staff_name[s] = persons["name"][p]
        persons["emp_name"][p] = city.inst_name[city.staff_inst[s]]
        persons["emp_no"][p] = city.inst_code[city.staff_inst[s]]
        persons["staff"][p] = s


class Generator:
    def __init__(self, cfg: SynthConfig) -> None:
        self.cfg = cfg
        self.n_chunks = max(1, -(-cfg.persons // cfg.chunk_persons))
        seqs = np.random.SeedSequence(cfg.seed).spawn(self.n_chunks + 2)
        self.seqs = seqs
        crng = np.random.default_rng(seqs[0])
        self.cat = load_catalog(cfg.year)
        self.city = City(cfg.persons, crng, cfg.year, cfg.violation_rate)
        make_prices(self.city, self.cat, crng)
        self.router = Router(self.city, self.cat)
        self.lm = LineMaker(self.city, self.cat)
        self.W = timeline.day_weights(cfg.year)
        self.clock = Clock(cfg.year)
        self.stock = Stock(self.city, self.cat, self.W["mstart"])
        self.truth = Truth()
        self.yy = f"{cfg.year % 100:02d}"
        self.c09_lines: dict[tuple[int, int], list] = {}
        rate = cfg.violation_rate
        self.c09: dict[tuple[int, int], float] = {}
        if rate > 0:
            ph = self.city.actor["ACT02"]
            self.c09[(ph, self.cat.id("lianhua"))] = 0.55
            self.c09[(ph, self.cat.id("amox"))] = 0.6
            pairs = [(int(i), int(self.cat.id(k))) for i in np.nonzero(self.city.inst_ftype == 2)[0]
                     for k in ("apap", "vitc", "loratadine", "huoxiang")]
            for j in np.nonzero(crng.random(len(pairs)) < rate * 2)[0]:
                self.c09.setdefault(pairs[j], 0.7)
        self.a11 = self._a11_targets(rate)

    def _a11_targets(self, rate: float) -> list[tuple[int, int, int, int, int]]:
        """A11 串换: (hospital, low item, high item, first day, last day) — for 2-4 months the hospital bills its uses of
        the low-price drug/consumable as the high-price one while buying the low-price one (a purchase trail exists
        only for drugs and consumables, so service-item pairs are not used)."""
        if rate <= 0:
            return []
        rng = np.random.default_rng(np.random.SeedSequence(self.cfg.seed).spawn(self.n_chunks + 3)[-1])
        cat, city, ms = self.cat, self.city, self.W["mstart"]
        hosp = np.nonzero(np.isin(city.inst_mtype, ["11", "12", "13"]) & (city.inst_ftype == 1))[0]
        out = []
        for lo, hi in cat.subs:
            if not (cat.stock_tracked[lo] and cat.stock_tracked[hi]):
                continue
            for i in hosp:
                if rng.random() < min(1.0, rate * 5):
                    m0 = int(rng.integers(0, 10)); m1 = min(11, m0 + int(rng.integers(1, 4)))
                    out.append((int(i), int(lo), int(hi), int(ms[m0]), int(ms[m1 + 1]) - 1))
        if not out:
            lo, hi = next((a, b) for a, b in cat.subs if cat.stock_tracked[a] and cat.stock_tracked[b])
            out.append((int(hosp[0]), int(lo), int(hi), int(ms[2]), int(ms[5]) - 1))
        return out

    # ------------------------------------------------------------------ one chunk
    def chunk(self, c: int) -> tuple[dict[str, pa.Table], list[GT]]:
        cfg, city, cat, W = self.cfg, self.city, self.cat, self.W
        rng = np.random.default_rng(self.seqs[c + 1])
        n = min(cfg.chunk_persons, cfg.persons - c * cfg.chunk_persons)
        rate = cfg.violation_rate
        first = c == 0
        persons, _ = make_persons(city, rng, n, c * cfg.chunk_persons, c)
        _link_staff(city, persons, c, self.n_chunks, rng)
        S, occ = timeline.build(persons, rng, W, city.ndays)
        V = timeline.visits(persons, occ, rng, W, city.ndays)
        E = assemble(S, V, persons, cat, rng, W, city.ndays)
        E["inst"] = self.router.route(E, persons, rng)
        # agreements: outside the agreement period -> backup institution, or kept (C06) when injecting
        inst = E["inst"]
        bad = (E["d0"] > city.agr_end[inst]) | (E["d0"] < city.agr_begn[inst])
        keep = bad & (rate > 0) & ((inst == city.actor["ACT06"]) | (rng.random(len(E)) < rate))
        E["scheme"] = np.where(keep, 6, E["scheme"])
        E["inst"] = np.where(bad & ~keep, city.backup[inst], inst)
        # staff are not admitted to their own hospital in normal data
        st = persons["staff"][E["psn"]]
        own = (st >= 0) & np.isin(E["kind"], list(KIND_IP)) & (E["inst"] == city.staff_inst[np.maximum(st, 0)])
        for e in np.nonzero(own)[0]:
            ids = self.router.cand[next(k for k in self.router.cand if k[0] == E["prof"][e] and k[1] == "city")][0]
            E["inst"][e] = ids[ids != E["inst"][e]][0]
        sctx = inject_stay.StayCtx(E, persons, city, cat, self.router, rng, W, rate, first)
        if rate > 0:
            if first:
                actors.plant(sctx)
            inject_stay.run(sctx)
        n_old = len(E)
        E = sctx.result()
        # encounters added by injections and actors respect the agreements too: outside an agreement period they go
        # to the backup institution, except at ACT06, which keeps settling after its suspension (C06)
        new = np.arange(n_old, len(E))
        inst = E["inst"][new]
        bad = (E["d0"][new] > city.agr_end[inst]) | (E["d0"][new] < city.agr_begn[inst])
        act6 = bad & (inst == city.actor["ACT06"]) & (rate > 0)
        for e in new[act6]:
            sctx.gts.append(GT("C06", "encounter", "机构医保协议暂停/解除后仍发生医保结算", enc=int(e), encs=[int(e)],
                               actor="ACT06"))
        E["inst"][new[bad & ~act6]] = city.backup[inst[bad & ~act6]]
        self.router.dept_doc(E, persons, rng)
        f = E["fdoc"] >= 0
        E["doc"] = np.where(f, E["fdoc"], E["doc"])
        E["dept"] = np.where(f, city.doc_dept[np.maximum(E["fdoc"], 0)], E["dept"])
        # fee lines
        L = self.lm.make(E, persons, rng)
        L = actors.line_effects(L, E, city, cat, self.lm, rng) if rate > 0 else L
        L = constraints.sanitize(L, E, persons, city, cat)
        constraints.cap_prescriptions(L, E, cat)
        L = actors.apply_c02(L, sctx.c02, cat)
        L["uid"] = np.arange(len(L))
        gts = list(sctx.gts)
        if rate > 0:
            ictx = inject_charge.Ctx(L, E, persons, city, cat, self.lm, rng, rate, first)
            ictx.a11 = self.a11
            inject_scope.run_first(ictx)
            inject_charge.run(ictx)
            inject_scope.run(ictx)
            L = ictx.apply()
            gts += ictx.gts
        for k, v in (("uplmt", -1), ("stock_item", -1)):
            if k not in L:
                L[k] = np.full(len(L), v)
        L["uplmt"] = np.where(L["uplmt"] < 0, L["cap"], L["uplmt"])
        L["stock_item"] = np.where(L["stock_item"] < 0, L["item"], L["stock_item"])
        # final order: encounters by begin time, lines by encounter and time
        oe = np.lexsort((E["psn"], E["t0"]))
        enc_new = np.empty(len(E), np.int64); enc_new[oe] = np.arange(len(E))
        E = E.take(oe)
        L["enc"] = enc_new[L["enc"]]
        ol = np.lexsort((L["uid"], L["t"], L["enc"]))
        L = L.take(ol)
        uid_pos = np.full(int(L["uid"].max(initial=0)) + 1, -1); uid_pos[L["uid"]] = np.arange(len(L))
        line_amounts(L, cat)
        settle(E, L, persons, city, rng)
        O = build_orders(L, E, city, cat)
        ids = tables_out.chunk_ids(E, L, c, self.yy)
        out = tables_out.chunk_tables(E, L, persons, city, cat, self.clock, ids, c, self.yy)
        out["drord_d"] = tables_out.drord(O, E, city, cat, self.clock, ids, persons, c, self.yy)
        out["psn_info"] = tables_out.psn_info(persons, self.clock)
        self.truth.finalize_chunk(gts, L, E, persons, city, cat, ids, enc_new, uid_pos)
        inst_l = E["inst"][L["enc"]]
        self.stock.add(inst_l, L["stock_item"], L["t"] // 86400, L["cnt"])
        if self.c09:
            key = inst_l * cat.n + cat.canon[L["item"]]
            tk = np.array([i * cat.n + it for i, it in self.c09])
            for j in np.nonzero(np.isin(key, tk))[0]:
                ff = L["inscp"][j] * E["fratio"][L["enc"][j]]
                self.c09_lines.setdefault((int(inst_l[j]), int(cat.canon[L["item"][j]])), []).append(
                    (int(L["t"][j]), ids["bkkp_sn"][j].as_py(), int(L["cnt"][j]), int(L["pric"][j]), int(L["det"][j]), float(ff)))
        return out, len(L)

    # ------------------------------------------------------------------ C09 and institution-level rows
    def finish_truth(self, rng) -> dict[tuple[int, int], float]:
        city, cat = self.city, self.cat
        shortage = {}
        for (i, it), s in self.c09.items():
            recs = sorted(self.c09_lines.get((i, it), []))
            if not recs:
                continue
            sold = sum(r[2] for r in recs)
            bought = int(np.floor(sold * s))
            excess = sold - bought
            shortage[(i, it)] = s
            chosen, q = [], 0
            for r in reversed(recs):
                if q >= excess:
                    break
                chosen.append(r); q += r[2]
            det = sum(r[4] for r in chosen)
            vola = min(excess, q) * chosen[0][3] if chosen else 0
            vola = min(vola, det)
            amount = int(np.floor(vola / det * sum(r[5] for r in chosen) + 0.5)) if det else 0
            actor = "ACT02" if i == city.actor["ACT02"] else ""
            self.truth.add_row(scheme="C09", level="institution", fixmedins_code=city.inst_code[i], psn_no="", mdtrt_id="", setl_id="",
                               bilg_dr_code="", hilist_code=cat.code[it], bkkp_sn=";".join(sorted(r[1] for r in chosen)),
                               vola=vola, amount=amount, kp_id="", actor=actor,
                               note=f"{cat.name[it]}全年销售{sold}、采购{bought}且无期初库存，销量超过进货量")
        if self.cfg.violation_rate > 0:
            for sch, act, note, item in (("D08", "ACT08", "影像检查费用占比远高于同级同类机构", ""),
                                         ("D09", "ACT09", "盐酸氨溴索注射液自7月起基金支付金额异常增长", cat.code[cat.id("amb_inj")])):
                self.truth.add_row(scheme=sch, level="institution", fixmedins_code=city.inst_code[city.actor[act]], psn_no="",
                                   mdtrt_id="", setl_id="", bilg_dr_code="", hilist_code=item, bkkp_sn="", vola=0, amount=0,
                                   kp_id="", actor=act, note=note)
        return shortage


def generate_city(cfg: SynthConfig, progress=None) -> SynthSummary:
    t_start = time.time()
    g = Generator(cfg)
    sink = Sink(cfg.out_dir, cfg.fmt)
    sink.write("medins_info", tables_out.medins_info(g.city, g.clock))
    sink.write("hilist", tables_out.hilist(g.cat, g.clock))
    q: queue.Queue = queue.Queue(maxsize=2)
    err: list[BaseException] = []

    def writer():
        while True:
            item = q.get()
            if item is None:
                return
            try:
                for name, t in item.items():
                    sink.write(name, t)
            except BaseException as e:   # noqa: BLE001 - re-raised in the caller
                err.append(e)
    th = threading.Thread(target=writer, daemon=True)
    th.start()
    lines = 0
    total = cfg.persons * LINES_PER_PERSON
    try:
        for c in range(g.n_chunks):
            out, nl = g.chunk(c)
            if err:
                raise err[0]
            q.put(out)
            lines += nl
            if progress is not None:
                progress(lines, max(total, lines))
    finally:
        q.put(None)
        th.join()
    if err:
        raise err[0]
    rng = np.random.default_rng(g.seqs[-1])
    shortage = g.finish_truth(rng)
    purc, invt = g.stock.tables(rng, g.clock, shortage)
    sink.write("medins_purc", purc)
    sink.write("medins_invt", invt)
    sink.write("medins_staff", tables_out.medins_staff(g.city, g.clock))
    sink.write("ground_truth", g.truth.table())
    sink.close()
    summary = SynthSummary(rows=dict(sink.rows), fee_lines=lines, elapsed_s=round(time.time() - t_start, 3),
                           schemes=g.truth.counts(), out_dir=cfg.out_dir)
    cfg_d = {k: (str(v) if k == "out_dir" else v) for k, v in asdict(cfg).items()}
    manifest = {"generator_version": GENERATOR_VERSION, "seed": cfg.seed, "config": cfg_d, "rows": summary.rows,
                "fee_lines": lines, "schemes": summary.schemes, "format": cfg.fmt}
    (cfg.out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return summary
