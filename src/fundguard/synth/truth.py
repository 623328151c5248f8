"""Ground truth: one row per injected violation or planted actor, with its lines and the fund-paid amount.

amount = round(vola_fee / Σdet × Σ (inscp_amt × fund_pay_sumamt / inscp_amt(settlement)), 2), the sums running over
the row's lines (vola_fee is spread over the lines in proportion to det_item_fee_sumamt).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .config import SCHEMES
from .writer import AMT, STR, dec


@dataclass
class GT:
    scheme: str
    level: str
    note: str
    enc: int = -1              # local encounter index (before the final sort)
    psn: int = -1
    inst: int = -1
    doc: int = -1
    item: int = -1
    uids: np.ndarray | None = None      # line uids
    encs: list[int] = field(default_factory=list)   # all lines of these encounters
    vola: int | None = None             # cents; None = whole lines
    kp: str = ""
    actor: str = ""
    psn_list: list[int] = field(default_factory=list)


class Truth:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def finalize_chunk(self, gts: list[GT], L, E, P, city, cat, ids, enc_new, uid_pos) -> None:
        """Resolve lines, ids and amounts of a chunk's rows (after the final sort; enc_new maps old->new)."""
        if not gts:
            return
        bk = ids["bkkp_sn"]; mid = ids["mdtrt_id"]; sid = ids["setl_id"]
        enc_lines_start = np.searchsorted(L["enc"], np.arange(len(E)))
        enc_lines_end = np.searchsorted(L["enc"], np.arange(len(E)), side="right")
        ff = L["inscp"] * E["fratio"][L["enc"]]
        for g in gts:
            pos = []
            if g.uids is not None and len(g.uids):
                pos.append(uid_pos[g.uids])
            for e in g.encs:
                ne = enc_new[e]
                pos.append(np.arange(enc_lines_start[ne], enc_lines_end[ne]))
            pos = np.unique(np.concatenate(pos)) if pos else np.zeros(0, np.int64)
            pos = pos[pos >= 0]
            if g.scheme == "C06" and not len(pos):
                continue            # an encounter without fee lines settled nothing with the fund
            det = int(L["det"][pos].sum()) if len(pos) else 0
            vola = det if g.vola is None else int(g.vola)
            amount = 0
            if det > 0 and len(pos):
                amount = int(np.floor(vola / det * ff[pos].sum() + 0.5))
            e = enc_new[g.enc] if g.enc >= 0 else -1
            psn = g.psn if g.psn >= 0 else (int(E["psn"][e]) if e >= 0 else -1)
            inst = g.inst if g.inst >= 0 else (int(E["inst"][e]) if e >= 0 else -1)
            doc = g.doc if g.doc >= 0 else (int(E["doc"][e]) if e >= 0 and g.level in ("line", "encounter") else -1)
            item = g.item if g.item >= 0 else (int(L["item"][pos[0]]) if len(pos) and g.level == "line" else -1)
            psn_no = ";".join(sorted(P["psn_no"][g.psn_list])) if g.psn_list else (P["psn_no"][psn] if psn >= 0 else "")
            self.rows.append({
                "scheme": g.scheme, "level": g.level, "fixmedins_code": city.inst_code[inst] if inst >= 0 else "",
                "psn_no": psn_no, "mdtrt_id": mid[e].as_py() if e >= 0 else "", "setl_id": sid[e].as_py() if e >= 0 else "",
                "bilg_dr_code": city.doc_code[doc] if doc >= 0 else "", "hilist_code": cat.code[item] if item >= 0 else "",
                "bkkp_sn": ";".join(sorted(bk.take(pa.array(pos)).to_pylist())) if len(pos) else "",
                "vola": vola if len(pos) else 0, "amount": amount, "kp_id": g.kp, "actor": g.actor, "note": g.note})

    def add_row(self, **kw) -> None:
        self.rows.append(kw)

    def table(self) -> pa.Table:
        rows = sorted(self.rows, key=lambda r: (r["scheme"], r["fixmedins_code"], r["mdtrt_id"], r["psn_no"], r["bkkp_sn"]))
        n = len(rows)
        col = lambda k: pa.array([r[k] for r in rows], STR)
        return pa.table({
            "gt_id": pa.array([f"GT{i + 1:07d}" for i in range(n)], STR), "scheme": col("scheme"),
            "scheme_name": pa.array([SCHEMES[r["scheme"]] for r in rows], STR), "level": col("level"),
            "fixmedins_code": col("fixmedins_code"), "psn_no": col("psn_no"), "mdtrt_id": col("mdtrt_id"),
            "setl_id": col("setl_id"), "bilg_dr_code": col("bilg_dr_code"), "hilist_code": col("hilist_code"),
            "bkkp_sn": col("bkkp_sn"), "vola_fee": dec(np.array([r["vola"] for r in rows], np.int64), AMT),
            "amount": dec(np.array([r["amount"] for r in rows], np.int64), AMT), "kp_id": col("kp_id"),
            "actor": col("actor"), "note": col("note")})

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r["scheme"]] = out.get(r["scheme"], 0) + 1
        return dict(sorted(out.items()))


def sample_sites(rng: np.random.Generator, rate: float, first: bool, idx, mult: float = 1.0,
                 cap: int | None = None) -> np.ndarray:
    """Choose the injection sites among candidate indices: binomial(rate × mult), at least one in the first chunk."""
    idx = np.unique(np.asarray(idx, np.int64))
    if not len(idx) or rate <= 0:
        return idx[:0]
    k = rng.binomial(len(idx), min(1.0, rate * mult))
    if k == 0 and first:
        k = 1
    if cap is not None:
        k = min(k, cap)
    return np.sort(rng.choice(idx, k, replace=False))
