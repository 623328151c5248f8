"""One small fixed-seed city, audited once per test session, served by the web app with one account per role.

Shared by tests/api and tests/web (built once even when both folders run). Institution A and B are the two
institutions with the most 明确违规 findings; items ``a_pushed`` and ``b_pushed`` have been through 初审, 复审
and 推送, and B's institution user has appealed ``b_pushed`` with an attachment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

PASSWORD = "Test-passw0rd"
SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
STAFF_ROLES = ("admin", "leader", "analyst", "reviewer")
ROLES = (*STAFF_ROLES, "inst_a")


@dataclass
class Env:
    app: object
    settings: object
    store: Path
    code_a: str
    code_b: str
    users: dict[str, int] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)   # name -> jr_id
    person_a_only: str = ""   # seen at A
    person_b_only: str = ""   # seen at B, never at A
    attachment_b: int = 0
    free_a: list[str] = field(default_factory=list)        # untouched items of A, for tests that act on items


_ENV: Env | None = None


def get_env(root: Path) -> Env:
    global _ENV
    if _ENV is None:
        _ENV = _build(root)
    return _ENV


def _build(root: Path) -> Env:
    from fundguard.api.app import create_app
    from fundguard.config import Settings
    from fundguard.engine.runner import run_audit
    from fundguard.ingest.loader import load_dir
    from fundguard.kb.builtin import ensure_builtin
    from fundguard.screening.runner import run_screening
    from fundguard.store.db import connect
    from fundguard.synth import SynthConfig, generate_city
    from fundguard.workflow.views import AttachmentIn

    city, store = root / "city", root / "store.duckdb"
    generate_city(SynthConfig(persons=2500, seed=11, out_dir=city, fmt="parquet", violation_rate=0.02, year=2025))
    settings = Settings(data_dir=root / "data", workflow_db_url=f"sqlite:///{(root / 'workflow.db').as_posix()}",
                        secret_key=SECRET, threads=2, memory_limit="2GB")
    con = connect(store, settings=settings)
    try:
        load_dir(con, city)
        ensure_builtin(con)
        run_audit(con)
        run_screening(con)
        codes = [r[0] for r in con.execute(
            """SELECT fixmedins_code FROM findings WHERE fixmedins_code IS NOT NULL GROUP BY 1
               ORDER BY count(*) FILTER (WHERE sev_deg = 1) DESC, count(*) DESC, 1 LIMIT 2""").fetchall()]
        a, b = codes
        # a person seen at A; a person seen at B and never at A
        person = """SELECT psn_no FROM mdtrt_d GROUP BY psn_no
                    HAVING bool_or(fixmedins_code = ?) AND NOT bool_or(fixmedins_code = ?) ORDER BY 1 LIMIT 1"""
        person_a = con.execute(person, [a, "-"]).fetchone()[0]
        person_b = con.execute(person, [b, a]).fetchone()[0]
    finally:
        con.close()

    app = create_app(settings, db_path=store)
    items, users = app.state.items, app.state.users
    items.import_findings(app.state.con.cursor())
    env = Env(app=app, settings=settings, store=store, code_a=a, code_b=b, person_a_only=person_a,
              person_b_only=person_b)
    accounts = [("admin", "admin", None), ("leader", "leader", None), ("analyst", "analyst", None),
                ("reviewer", "reviewer", None), ("reviewer2", "reviewer", None), ("inst_a", "institution", a),
                ("inst_b", "institution", b)]
    principals = {}
    for name, role, code in accounts:
        principals[name] = users.create_user(name, PASSWORD, role, f"测试{name}", code)
        env.users[name] = principals[name].user_id

    from fundguard.workflow.views import ItemFilter

    def ids_of(code: str) -> list[str]:
        page = items.list_items(principals["analyst"], ItemFilter(fixmedins_code=code), sort="-vola_amt",
                                page=1, page_size=200)
        return [i.jr_id for i in page.items]

    a_ids, b_ids = ids_of(a), ids_of(b)
    env.items["a_pushed"], env.items["b_pushed"], env.items["b_pending"] = a_ids[0], b_ids[0], b_ids[1]
    for jr_id in (a_ids[0], b_ids[0]):
        _ok(items.transition(principals["analyst"], [jr_id], "first_confirm"))
        _ok(items.transition(principals["reviewer"], [jr_id], "second_approve"))
        _ok(items.transition(principals["reviewer"], [jr_id], "push"))
    _ok(items.transition(principals["inst_b"], [b_ids[0]], "appeal", "收费有医嘱依据，见附件",
                         attachments=[AttachmentIn(filename="医嘱单.pdf", content_type="application/pdf",
                                                   data=b"%PDF-1.4 test")]))
    env.attachment_b = items.attachments(principals["analyst"], b_ids[0])[0].id
    # the browser test's own item: A's largest 明确违规 finding outside the ones other tests act on
    sev1 = items.list_items(principals["analyst"], ItemFilter(fixmedins_code=a, sev_deg=1), sort="-vola_amt",
                            page=1, page_size=50).items
    env.items["browser"] = next(i.jr_id for i in sev1 if i.jr_id not in a_ids[:6])
    env.free_a = [j for j in a_ids[1:] if j != env.items["browser"]]
    return env


def _ok(results) -> None:
    assert all(r.ok for r in results), [r.message for r in results]


def login(client: TestClient, username: str) -> str:
    """Sign a TestClient in through the login form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/rules")
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', page.text).group(1)
