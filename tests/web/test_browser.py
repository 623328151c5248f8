"""The whole loop in headless Chromium (Debian's /usr/bin/chromium driven by Playwright), with screenshots saved
under artifacts/screenshots/: analyst filters and opens a finding and confirms it (初审); a second reviewer
approves (复审) and pushes it; the institution appeals with a reason and an attachment; the analyst investigates
(调查核实) and decides (违规处理)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.web.env import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "浏览器测试跳过：未安装 playwright（make setup 按 requirements.lock 安装）"
    if not CHROMIUM:
        return "浏览器测试跳过：未找到 chromium（apt-get install chromium fonts-wqy-zenhei；CI 由 .ci/run 安装）"
    from fundguard.web.render import vendor_ready

    if not vendor_ready():
        return "浏览器测试跳过：前端依赖未安装（运行 make setup，需要 npm）"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


@pytest.fixture(scope="module")
def server(env):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "web app did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:  # Playwright gives the browser a new empty profile directory
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.on("dialog", lambda dialog: dialog.accept())  # the confirm() before decisions
    yield pg
    context.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(pg, base: str, username: str) -> None:
    pg.goto(f"{base}/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("form button[type=submit]")
    pg.wait_for_load_state("networkidle")
    assert "/login" not in pg.url, pg.content()[:500]


def logout(pg) -> None:
    pg.click("header form button")
    pg.wait_for_url("**/login")


def act(pg, label: str, reason: str | None = None, files: list[Path] | None = None,
        penalty_basis: str | None = None) -> None:
    """Submit the action form titled ``label`` on a finding page."""
    form = pg.locator("form.action-form", has=pg.locator("h3", has_text=label))
    if reason is not None:
        form.locator("textarea[name=reason]").fill(reason)
    if files:
        form.locator("input[name=files]").set_input_files([str(f) for f in files])
    if penalty_basis:
        form.locator("select[name=penalty_basis]").select_option(penalty_basis)
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state("networkidle")
    assert f"已完成：{label}" in pg.locator(".flash").inner_text(), pg.locator("main").inner_text()[:500]


def test_whole_loop_in_the_browser(env, server, page, tmp_path):
    base, pg, jr_id = server, page, env.items["browser"]

    # 1. analyst: dashboard, filter the list, open the finding, 初审确认
    login(pg, base, "analyst")
    assert pg.locator("h1").first.inner_text() == "监管总览"
    pg.wait_for_selector("#chart-trend svg")  # the chart rendered from the vendored echarts
    shot(pg, "01-analyst-dashboard")
    pg.click("nav.mainnav >> text=疑点清单")
    pg.fill("input[name=fixmedins_code]", env.code_a)
    pg.select_option("select[name=sev_deg]", "1")
    pg.select_option("select[name=state]", "pending_first")
    pg.click("form.filters button[type=submit]")
    pg.wait_for_load_state("networkidle")
    assert f"fixmedins_code={env.code_a}" in pg.url and "sev_deg=1" in pg.url
    states = pg.locator("table.findings tbody td:nth-child(9)").all_inner_texts()
    assert states and set(states) == {"待初审"}
    shot(pg, "02-analyst-findings-filtered")
    pg.click(f"a[href='/findings/{jr_id}']")
    pg.wait_for_load_state("networkidle")
    assert jr_id in pg.locator(".pagehead").inner_text()
    assert pg.locator("#rule").inner_text().count("法律依据") == 1
    shot(pg, "03-analyst-finding-evidence")
    act(pg, "初审确认", "违规事实清楚，证据充分")
    assert "初审确认（待复审）" in pg.locator(".pagehead").inner_text()
    shot(pg, "04-analyst-first-review-done")
    logout(pg)

    # 2. a second reviewer: 复审通过, 推送机构
    login(pg, base, "reviewer")
    pg.goto(f"{base}/findings/{jr_id}")
    act(pg, "复审通过")
    act(pg, "推送机构")
    assert "已推送机构" in pg.locator(".pagehead").inner_text()
    shot(pg, "05-reviewer-pushed")
    logout(pg)

    # 3. the hospital's 医保办: sees the item, appeals with a reason and an attachment
    login(pg, base, "inst_a")
    assert "/findings" in pg.url
    assert pg.locator(f"a[href='/findings/{jr_id}']").count() == 1
    assert pg.locator("nav.mainnav").inner_text().count("监管总览") == 0
    shot(pg, "06-institution-list")
    pg.click(f"a[href='/findings/{jr_id}']")
    pg.wait_for_load_state("networkidle")
    assert "个人信息已脱敏" in pg.locator("#patient").inner_text()
    evidence = tmp_path / "情况说明.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% FundGuard test appeal\n")
    act(pg, "提出申诉", "该药品系医生根据病情开具，附病程记录", files=[evidence])
    assert "机构已申诉" in pg.locator(".pagehead").inner_text()
    assert "情况说明.pdf" in pg.locator("#history").inner_text()
    shot(pg, "07-institution-appealed")
    pg.goto(f"{base}/findings/{env.items['b_pushed']}")
    assert pg.locator("h1").first.inner_text() == "未找到"
    logout(pg)

    # 4. analyst: 调查核实, 违规处理 (确认违规并扣款/追回)
    login(pg, base, "analyst")
    pg.goto(f"{base}/findings/{jr_id}")
    with pg.expect_download() as download:
        pg.click("#history >> text=情况说明.pdf")
    assert download.value.suggested_filename == "情况说明.pdf"
    act(pg, "受理并调查核实", "调取病程记录与医嘱")
    act(pg, "确认违规并扣款/追回", "病程记录不支持该用药，按协议扣款", penalty_basis="agreement")
    head = pg.locator(".pagehead").inner_text()
    assert "确认违规（扣款/追回）" in head
    assert "扣款" in pg.locator("#actions").inner_text()
    history = pg.locator("#history").inner_text()
    for step in ("初审确认", "复审通过", "推送机构", "提出申诉", "受理并调查核实", "确认违规并扣款/追回"):
        assert step in history, step
    shot(pg, "08-analyst-decided")
    pg.goto(f"{base}/rules/quality")
    shot(pg, "09-rule-quality")
    pg.goto(f"{base}/overdue")
    shot(pg, "10-overdue")
    pg.goto(f"{base}/institutions/{env.code_a}")
    assert "风险分" in pg.locator("main").inner_text()
    shot(pg, "11-institution-profile")
    assert (SHOTS / "08-analyst-decided.png").stat().st_size > 10_000
