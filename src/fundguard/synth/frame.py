"""A minimal column store of numpy arrays (one dict per table, equal lengths)."""

from __future__ import annotations

import numpy as np


class Frame:
    def __init__(self, **cols: np.ndarray) -> None:
        self.cols: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in cols.items()}

    def __len__(self) -> int:
        for v in self.cols.values():
            return len(v)
        return 0

    def __getitem__(self, k: str) -> np.ndarray:
        return self.cols[k]

    def __setitem__(self, k: str, v) -> None:
        n = len(self)
        v = np.asarray(v)
        if v.ndim == 0:
            v = np.full(n, v)
        self.cols[k] = v

    def __contains__(self, k: str) -> bool:
        return k in self.cols

    def take(self, idx) -> Frame:
        return Frame(**{k: v[idx] for k, v in self.cols.items()})

    def copy(self) -> Frame:
        return Frame(**{k: v.copy() for k, v in self.cols.items()})

    @staticmethod
    def concat(frames: list[Frame]) -> Frame:
        frames = [f for f in frames if f is not None and len(f.cols)]
        if not frames:
            return Frame()
        keys = list(frames[0].cols)
        for f in frames[1:]:
            for k in f.cols:
                if k not in keys:
                    keys.append(k)
        out = {}
        for k in keys:
            parts = []
            for f in frames:
                if k in f.cols:
                    parts.append(f.cols[k])
                else:
                    ref = next(g.cols[k] for g in frames if k in g.cols)
                    fill = -1 if ref.dtype.kind in "iu" else (False if ref.dtype.kind == "b" else
                                                             (np.nan if ref.dtype.kind == "f" else ""))
                    parts.append(np.full(len(f), fill, dtype=ref.dtype))
            out[k] = np.concatenate(parts)
        return Frame(**out)
