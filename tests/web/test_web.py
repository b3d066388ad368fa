"""The web surfaces in headless Chromium (Debian's) driven by Playwright, against a real server."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assist.config import Settings
from tests.live import LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def shot(page, name: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Screenshots go to docs/screenshots/ when ASSIST_SCREENSHOTS=1, else to the test's temp dir."""
    folder = ROOT / "docs" / "screenshots" if os.environ.get("ASSIST_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def server(shipped_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("web")
    shutil.copy(shipped_db, data / "assist.db")
    with live_server(Settings(_env_file=None, data_dir=data)) as live:  # type: ignore[call-arg]
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], errors  # no script errors on any page


def test_demo_angry_customer_then_draft_rewrite_accepted(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http}/demo?conversation=web-demo&lang=zh")
    sidebar = page.frame_locator("#sidebar")
    sidebar.locator("#status[data-kind=connected]").wait_for()
    page.fill("#customer-input", "你们这是什么垃圾服务！！！我要投诉到12315，马上给我退款！！")
    page.click("#customer-form button")
    page.locator("#agent-log li.customer").wait_for()
    sidebar.locator('#emotion[data-label="anger"]').wait_for()
    assert "愤怒" in sidebar.locator("#emotion").inner_text()
    assert sidebar.locator("mark.cue").count() >= 1  # cues highlighted in the message
    sidebar.locator("li.suggestion").first.wait_for()
    assert sidebar.locator("li.suggestion").count() >= 3
    sidebar.locator("#draft").fill("我不知道，你必须自己去查物流")
    sidebar.locator("#rewrite del").first.wait_for()
    assert any("不知道" in removed for removed in sidebar.locator("#rewrite del").all_inner_texts())
    assert sidebar.locator("#rewrite .notes li").count() >= 1  # every change says why
    shot(page, "demo", tmp_path)
    sidebar.locator("#accept").click()
    accepted = sidebar.locator("#draft").input_value()
    assert "我不知道" not in accepted and accepted


def test_sidebar_suggestion_actions_send_feedback(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 380, "height": 900})
    page.goto(f"{server.http}/?conversation=web-side&lang=en")
    page.locator("#status[data-kind=connected]").wait_for()
    httpx.post(f"{server.http}/api/conversations/web-side/messages",
               json={"role": "customer", "text": "Order #A12345 still hasn't arrived and I need it for Friday!!"})
    page.locator("li.suggestion").first.wait_for()
    first = page.locator("li.suggestion").first
    phrase = first.get_attribute("data-phrase")
    for slot in first.locator("input.slot").all():
        slot.fill("Friday")
    first.get_by_role("button", name="Insert").click()
    assert page.locator("#draft").input_value()
    assert "{" not in page.locator("#draft").input_value()  # slots filled in place
    page.keyboard.press("Alt+2")
    page.locator("li.suggestion").nth(2).get_by_role("button", name="Dismiss").click()
    shot(page, "sidebar", tmp_path)
    deadline = time.monotonic() + 10  # feedback travels over the socket: poll for it
    used = 0
    while used < 1 and time.monotonic() < deadline:
        used = httpx.get(f"{server.http}/api/phrases/{phrase}/usage").json()["totals"]["used"]
        time.sleep(0.05)
    assert used >= 1


def test_console_create_edit_approve_and_bad_import(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http}/console")
    page.locator("#app").wait_for()
    page.click("#new")
    page.fill("#f-key", "web.console.1")
    page.fill("#f-en", "I'll look into order {order_id} right away.")
    page.fill("#f-zh-Hans", "我马上为您查询订单{order_id}。")
    page.fill("#f-situations", "delay, delivery")
    page.fill("#f-emotions", "anxiety")
    page.select_option("#f-technique", "expectation_setting")
    page.click("#save")
    page.locator("#editor-errors", has_text="Saved.").wait_for()
    assert "version 1" in page.locator("#editor-key").inner_text()
    page.fill("#f-en", "I'll check order {order_id} now and update you within {hours} hours.")
    page.fill("#f-zh-Hans", "我现在为您查询订单{order_id}，{hours}小时内回复您。")
    page.click("#save")
    page.locator("#editor-key", has_text="version 2").wait_for()
    page.click("#approve")
    page.locator("#editor-key", has_text="approved").wait_for()
    page.locator("#history li", has_text="v3 status").wait_for()  # history loads after the header
    assert page.locator("#history li").count() == 3
    assert page.locator("#history ins").count() >= 1  # each change shown as a diff
    page.fill("#f-emotions", "rage")  # validation errors are shown, nothing saved
    page.click("#save")
    page.locator("#editor-errors", has_text="unknown emotion").wait_for()
    bad = b'{"key": "ok.1", "text": {"en": "Fine."}}\n{"key": "bad.1", "text": {"en": "x"}, "emotions": ["rage"]}\n'
    page.set_input_files("#import-file", files=[{"name": "bank.jsonl", "mimeType": "application/jsonl", "buffer": bad}])
    page.click("#import button")
    page.locator("#import-result table.errors").wait_for()
    row = page.locator("#import-result tbody tr").first.inner_text()
    assert "2" in row and "bad.1" in row and "rage" in row
    page.fill("#filters input[name=q]", "web.console")
    page.click("#filters button[type=submit]")
    page.locator("#rows tr", has_text="web.console.1").wait_for()
    shot(page, "console", tmp_path)


def test_widget_mounts_in_a_host_page_and_follows_the_conversation(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_content(f"""<!doctype html><html><body><h1>Acme Helpdesk</h1><p>Ticket T-7</p>
        <script src="{server.http}/widget.js" data-conversation="web-widget" data-lang="en"></script></body></html>""")
    widget = page.frame_locator("iframe[data-assist-widget]")
    widget.locator("#status[data-kind=connected]").wait_for()
    httpx.post(f"{server.http}/api/conversations/web-widget/messages",
               json={"role": "customer", "text": "I was charged twice for my subscription!!"})
    widget.locator("#messages li.customer", has_text="charged twice").wait_for()
    widget.locator("li.suggestion").first.wait_for()
    assert widget.locator("#emotion").get_attribute("data-label") != "none"
    shot(page, "widget", tmp_path)


def test_widget_chatwoot_mode_binds_to_the_chatwoot_conversation(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.set_content(f"""<!doctype html><html><body>
        <script src="{server.http}/widget.js" data-mode="chatwoot" data-lang="en"></script></body></html>""")
    page.evaluate("""() => window.postMessage(JSON.stringify({event: "appContext",
        data: {conversation: {id: 77, account_id: 3}}}), "*")""")
    page.wait_for_function("() => document.querySelector('iframe[data-assist-widget]').src.includes('chatwoot')")
    src = page.locator("iframe[data-assist-widget]").get_attribute("src")
    assert "conversation=chatwoot%3A3%3A77" in src


def test_sidebar_reconnects_resyncs_and_escapes_text(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 360, "height": 900})
    page.goto(f"{server.http}/?conversation=web-drop&lang=en")
    page.locator("#status[data-kind=connected]").wait_for()
    hostile = '<img src=x onerror="window.pwned=1"><b>bold</b> where is my order??'
    httpx.post(f"{server.http}/api/conversations/web-drop/messages", json={"role": "customer", "text": hostile})
    page.locator("#messages li.customer").first.wait_for()
    assert page.locator("#messages img, #messages b").count() == 0  # shown as text, not markup
    assert "<img src=x" in page.locator("#messages").inner_text()
    page.evaluate("window.agentAssist.socket.ws.close()")  # the network drops the socket
    page.locator("#status[data-kind=disconnected]").wait_for()
    # Sent while the sidebar is away: it can only appear through the resync after reconnecting.
    httpx.post(f"{server.http}/api/conversations/web-drop/messages", json={"role": "agent", "text": "Checking now."})
    page.locator("#status[data-kind=connected]").wait_for()
    page.locator("#messages li.agent", has_text="Checking now.").wait_for()  # resynced after reconnecting
    assert page.evaluate("window.pwned === undefined")
