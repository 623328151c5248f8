"""Multi-key sorting and the person filter of the 疑点 list."""

from __future__ import annotations

import pytest

from fundguard.errors import ValidationFailed
from fundguard.workflow.views import ItemFilter


def test_several_sort_keys_order_by_severity_then_amount(world):
    page = world.items.list_items(world.p["analyst"], sort="sev_deg,-vola_amt")
    # sev 1: J001 655.20, J002 120.00; sev 2: J005 1000.00, J003 35.50, J004 8.00
    assert [i.jr_id for i in page.items] == ["J001", "J002", "J005", "J003", "J004"]
    page = world.items.list_items(world.p["analyst"], sort="-sev_deg, vola_amt")
    assert [i.jr_id for i in page.items] == ["J004", "J003", "J005", "J002", "J001"]


def test_unknown_sort_key_is_refused_by_name(world):
    with pytest.raises(ValidationFailed, match="psn_name"):
        world.items.list_items(world.p["analyst"], sort="sev_deg,psn_name")


def test_person_filter(world):
    psn = world.items.get_item(world.p["analyst"], "J003").psn_no
    page = world.items.list_items(world.p["analyst"], ItemFilter(psn_no=psn))
    assert page.total >= 1 and all(i.psn_no == psn for i in page.items)
    assert world.items.list_items(world.p["analyst"], ItemFilter(psn_no="NOBODY")).total == 0
