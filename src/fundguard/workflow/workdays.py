"""Working-day calendar for deadlines: Monday–Friday, minus public holidays, plus make-up working days (调休).

The built-in table holds the State Council's holiday arrangements (国务院办公厅关于节假日安排的通知) for the
years listed below; an administrator adds other years or corrects days in ``wf_calendar_days`` (which wins).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy import select

from fundguard.errors import ValidationFailed
from fundguard.workflow.access import Principal, require
from fundguard.workflow.models import AdminLogRow, CalendarDay

# (first day, last day, name, is_workday). Holidays as published; 调休 working days are weekend days.
_BUILTIN: tuple[tuple[str, str, str, bool], ...] = (
    # 2025 (国办发明电〔2024〕12号)
    ("2025-01-01", "2025-01-01", "元旦", False),
    ("2025-01-28", "2025-02-04", "春节", False),
    ("2025-01-26", "2025-01-26", "春节调休上班", True),
    ("2025-02-08", "2025-02-08", "春节调休上班", True),
    ("2025-04-04", "2025-04-06", "清明节", False),
    ("2025-05-01", "2025-05-05", "劳动节", False),
    ("2025-04-27", "2025-04-27", "劳动节调休上班", True),
    ("2025-05-31", "2025-06-02", "端午节", False),
    ("2025-10-01", "2025-10-08", "国庆节、中秋节", False),
    ("2025-09-28", "2025-09-28", "国庆节调休上班", True),
    ("2025-10-11", "2025-10-11", "国庆节调休上班", True),
    # 2026 (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04)
    ("2026-01-01", "2026-01-03", "元旦", False),
    ("2026-01-04", "2026-01-04", "元旦调休上班", True),
    ("2026-02-15", "2026-02-23", "春节", False),
    ("2026-02-14", "2026-02-14", "春节调休上班", True),
    ("2026-02-28", "2026-02-28", "春节调休上班", True),
    ("2026-04-04", "2026-04-06", "清明节", False),
    ("2026-05-01", "2026-05-05", "劳动节", False),
    ("2026-05-09", "2026-05-09", "劳动节调休上班", True),
    ("2026-06-19", "2026-06-21", "端午节", False),
    ("2026-09-25", "2026-09-27", "中秋节", False),
    ("2026-10-01", "2026-10-07", "国庆节", False),
    ("2026-09-20", "2026-09-20", "国庆节调休上班", True),
    ("2026-10-10", "2026-10-10", "国庆节调休上班", True),
)


def builtin_days() -> dict[dt.date, tuple[bool, str]]:
    days: dict[dt.date, tuple[bool, str]] = {}
    for first, last, name, workday in _BUILTIN:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            days[day] = (workday, name)
            day += dt.timedelta(days=1)
    return days


class WorkCalendar:
    """Working days from weekends, the built-in holidays and the database overrides (the overrides win)."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None, use_builtin: bool = True):
        self.days: dict[dt.date, bool] = {d: w for d, (w, _) in builtin_days().items()} if use_builtin else {}
        self.days.update(overrides or {})
        self._keys: list[dt.date] | None = None

    @classmethod
    def load(cls, session) -> WorkCalendar:
        rows = session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all()
        return cls({day: bool(work) for day, work in rows})

    def is_workday(self, day: dt.date) -> bool:
        if day in self.days:
            return self.days[day]
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself does not count): the deadline of an n-day limit
        that begins on ``start``."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day, left = start, n
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start. Weekday arithmetic plus the
        calendar's exceptions inside the range, so long ranges cost no more than short ones."""
        if end < start:
            return -self.workdays_between(end, start)
        days = (end - start).days
        weeks, rest = divmod(days, 7)
        count = weeks * 5
        for offset in range(1, rest + 1):
            count += (start + dt.timedelta(days=offset)).weekday() < 5
        lo = bisect.bisect_right(self._sorted, start)
        hi = bisect.bisect_right(self._sorted, end)
        for day in self._sorted[lo:hi]:
            count += int(self.days[day]) - int(day.weekday() < 5)
        return count

    @property
    def _sorted(self) -> list[dt.date]:
        if self._keys is None or len(self._keys) != len(self.days):
            self._keys = sorted(self.days)
        return self._keys


class CalendarService:
    """Maintain the holiday calendar (administrators)."""

    def __init__(self, db, clock: Callable[[], dt.datetime] = dt.datetime.now):
        self.db = db
        self.clock = clock

    def calendar(self) -> WorkCalendar:
        with self.db.session() as s:
            return WorkCalendar.load(s)

    def list_days(self, year: int) -> list[dict]:
        """Every non-ordinary day of a year (built-in and overrides) with its source."""
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        out = {d: {"day": d, "is_workday": w, "name": n, "source": "内置"}
               for d, (w, n) in builtin_days().items() if first <= d <= last}
        with self.db.session() as s:
            for row in s.scalars(select(CalendarDay).where(CalendarDay.day.between(first, last))):
                out[row.day] = {"day": row.day, "is_workday": row.is_workday, "name": row.name, "source": "自定义"}
        return [out[d] for d in sorted(out)]

    def set_days(self, principal: Principal, days: Iterable[tuple[dt.date, bool, str | None]]) -> int:
        require(principal, "calendar.manage")
        days = list(days)
        with self.db.session() as s:
            for day, workday, name in days:
                row = s.get(CalendarDay, day)
                if row is None:
                    s.add(CalendarDay(day=day, is_workday=bool(workday), name=(name or None)))
                else:
                    row.is_workday, row.name = bool(workday), (name or None)
            s.add(AdminLogRow(at=self.clock(), actor_id=principal.user_id, actor_name=principal.display_name,
                              action="calendar", target=None,
                              detail="；".join(f"{d.isoformat()} {'上班' if w else '放假'}" for d, w, _ in days)))
        return len(days)

    def import_text(self, principal: Principal, text: str) -> int:
        """Lines ``YYYY-MM-DD,休|班[,名称]`` (``#`` starts a comment); returns the number of days set."""
        days = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            try:
                day = dt.date.fromisoformat(parts[0])
            except ValueError:
                raise ValidationFailed(f"第 {number} 行的日期无法识别：{parts[0]!r}（应为 YYYY-MM-DD）") from None
            kind = parts[1] if len(parts) > 1 else "休"
            if kind not in ("休", "班"):
                raise ValidationFailed(f"第 {number} 行的类型应为“休”或“班”，收到 {kind!r}")
            days.append((day, kind == "班", parts[2] if len(parts) > 2 else None))
        return self.set_days(principal, days)
