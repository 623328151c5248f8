"""End to end on the hand-written mini city: load → audit (one rule) → 疑点 item with period and institution name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fundguard.engine.runner import run_audit
from fundguard.ingest.loader import load_dir
from fundguard.kb.importer import import_file
from fundguard.workflow.db import WorkflowDB
from fundguard.workflow.service import ItemService
from fundguard.workflow.users import UserService
from fundguard.workflow.views import ItemFilter
from tests.conftest import FIXTURES

from .conftest import FAST_HASHER, PASSWORD


def test_findings_of_an_audit_run_become_items(store, settings, tmp_path):
    load_dir(store, FIXTURES / "mini")
    import_file(store, FIXTURES / "kb_mini.json")
    run = run_audit(store, rule_ids=["GZ10000301004000"])
    db = WorkflowDB(f"sqlite:///{tmp_path / 'wf.db'}", settings=settings)
    db.upgrade()
    clock = lambda: dt.datetime(2025, 4, 1, 9)
    items = ItemService(db, clock=clock)
    assert items.import_findings(store) == 1 and items.import_findings(store, run.run_id) == 0
    analyst = UserService(db, clock=clock, hasher=FAST_HASHER).create_user("ana1", PASSWORD, "analyst", "稽查")
    [item] = items.list_items(analyst, ItemFilter(period_from="2025-03", period_to="2025-03")).items
    jr_id = store.execute("SELECT jr_id FROM findings").fetchone()[0]
    assert (item.jr_id, item.run_id, item.rule_id, item.fixmedins_code) == (
        jr_id, run.run_id, "GZ10000301004000", "H32060100001")
    assert item.vola_amt == Decimal("655.20") and item.period == "2025-03"
    assert item.fixmedins_name == "南通市第一人民医院" and "限女性使用" in item.vola_cont
    assert "第三十八条" in item.vola_evid and item.kp_id
    db.dispose()
