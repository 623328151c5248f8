"""Working-day arithmetic: weekends, public holidays, make-up working days (调休), local overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from fundguard.errors import Forbidden, ValidationFailed
from fundguard.workflow.workdays import CalendarService, WorkCalendar

D = dt.date


def test_weekends_only():
    cal = WorkCalendar(use_builtin=False)
    assert cal.add_workdays(D(2024, 3, 1), 1) == D(2024, 3, 4)      # Friday + 1 → Monday
    assert cal.add_workdays(D(2024, 3, 4), 10) == D(2024, 3, 18)
    assert cal.add_workdays(D(2024, 3, 2), 0) == D(2024, 3, 2)
    assert cal.workdays_between(D(2024, 3, 1), D(2024, 3, 8)) == 5
    assert cal.workdays_between(D(2024, 3, 8), D(2024, 3, 1)) == -5


def test_public_holidays_and_make_up_days():
    cal = WorkCalendar()
    assert not cal.is_workday(D(2025, 10, 1)) and not cal.is_workday(D(2025, 10, 8))
    assert cal.is_workday(D(2025, 9, 28)) and cal.is_workday(D(2025, 10, 11))    # Sunday / Saturday 调休
    # Friday 09-26 + 3: Sun 09-28 (调休), Mon 09-29, Tue 09-30
    assert cal.add_workdays(D(2025, 9, 26), 3) == D(2025, 9, 30)
    # Tue 09-30 + 1 skips the whole 国庆 break
    assert cal.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)                  # Saturday 调休 before 春节
    assert cal.add_workdays(D(2026, 2, 14), 1) == D(2026, 2, 24)


def test_overrides_win():
    cal = WorkCalendar({D(2025, 10, 9): False, D(2025, 10, 4): True})
    assert cal.is_workday(D(2025, 10, 4)) and not cal.is_workday(D(2025, 10, 9))
    assert cal.add_workdays(D(2025, 9, 30), 2) == D(2025, 10, 10)


def test_calendar_service(world):
    svc = CalendarService(world.db, clock=world.clock)
    text = "# 2027 年（示例）\n2027-01-01,休,元旦\n2027-01-02，班，调休\n\n"
    assert svc.import_text(world.p["admin"], text) == 2
    days = {d["day"]: d for d in svc.list_days(2027)}
    assert days[D(2027, 1, 1)] == {"day": D(2027, 1, 1), "is_workday": False, "name": "元旦", "source": "自定义"}
    assert days[D(2027, 1, 2)]["is_workday"] is True
    assert svc.calendar().add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 2)
    builtin = {d["day"]: d for d in svc.list_days(2025)}
    assert builtin[D(2025, 5, 1)]["source"] == "内置" and builtin[D(2025, 5, 1)]["name"] == "劳动节"
    svc.set_days(world.p["admin"], [(D(2025, 5, 1), True, "改为上班")])            # the override replaces it
    assert {d["day"]: d for d in svc.list_days(2025)}[D(2025, 5, 1)]["source"] == "自定义"
    for bad in ("2027-13-01,休", "2027-01-03,半"):
        with pytest.raises(ValidationFailed):
            svc.import_text(world.p["admin"], bad)
    with pytest.raises(Forbidden):
        svc.import_text(world.p["leader"], text)


def test_long_ranges_match_a_day_by_day_count():
    cal = WorkCalendar({D(2025, 7, 7): False, D(2025, 7, 12): True})
    assert WorkCalendar().workdays_between(D(2024, 12, 31), D(2025, 12, 31)) == 248     # 261 weekdays − 18 + 5
    for start, end in ((D(2025, 1, 1), D(2026, 12, 31)), (D(2025, 7, 6), D(2025, 7, 12)),
                       (D(2025, 9, 27), D(2025, 10, 11)), (D(2026, 2, 13), D(2025, 2, 13))):
        lo, hi = min(start, end), max(start, end)
        slow = sum(cal.is_workday(lo + dt.timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        assert cal.workdays_between(start, end) == (slow if end >= start else -slow)
