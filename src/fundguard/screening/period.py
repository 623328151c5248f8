"""Screening periods: a year, half-year, quarter, month or explicit date range; admissions are selected by date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fundguard.errors import ConfigError


@dataclass(frozen=True)
class Period:
    label: str
    begin: dt.date | None = None
    end: dt.date | None = None          # inclusive

    @property
    def days(self) -> int:
        if self.begin is None or self.end is None:
            return 365
        return (self.end - self.begin).days + 1

    def where(self, column: str) -> str:
        """SQL predicate selecting dates of ``column`` inside the period ('TRUE' when unbounded)."""
        parts = []
        if self.begin is not None:
            parts.append(f"{column} >= DATE '{self.begin.isoformat()}'")
        if self.end is not None:
            parts.append(f"{column} <= DATE '{self.end.isoformat()}'")
        return " AND ".join(parts) or "TRUE"


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def parse_period(text: str | None) -> Period:
    """'2025' · '2025H2' · '2025Q3' · '2025-07' · '2025-01-01:2025-06-30' · None/'all' (every admission)."""
    if text is None or text.strip().lower() in ("", "all", "全部"):
        return Period("全部")
    t = text.strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})", t):
            y = int(m[1])
            return Period(t, dt.date(y, 1, 1), dt.date(y, 12, 31))
        if m := re.fullmatch(r"(\d{4})H([12])", t):
            y, h = int(m[1]), int(m[2])
            return Period(t, dt.date(y, 1 + 6 * (h - 1), 1), _month_end(y, 6 * h))
        if m := re.fullmatch(r"(\d{4})Q([1-4])", t):
            y, q = int(m[1]), int(m[2])
            return Period(t, dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
            y, mo = int(m[1]), int(m[2])
            return Period(f"{y}-{mo:02d}", dt.date(y, mo, 1), _month_end(y, mo))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?::|\.\.|~)\s*(\d{4}-\d{2}-\d{2})", t):
            b, e = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
            if e < b:
                raise ValueError
            return Period(f"{b.isoformat()}~{e.isoformat()}", b, e)
    except ValueError:
        pass
    raise ConfigError(f"无法识别的筛查期间 {text!r}：可用 2025、2025H2、2025Q3、2025-07 或 2025-01-01:2025-06-30")


def resolve(con, period: Period) -> Period:
    """Fill an unbounded period with the first and last admission date in the store."""
    if period.begin is not None and period.end is not None:
        return period
    lo, hi = con.execute("SELECT min(CAST(begntime AS DATE)), max(CAST(begntime AS DATE)) FROM mdtrt_d").fetchone()
    lo = period.begin or lo or dt.date.today()
    hi = period.end or hi or lo
    label = period.label if period.label != "全部" else f"{lo.isoformat()}~{hi.isoformat()}"
    return Period(label, lo, hi)
