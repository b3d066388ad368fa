"""The pre-send guard in the browser: the sidebar states a block plainly, and the widget tells its host page,
which stops its own send button (docs/integrations.md, "Stopping a send")."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer
from tests.web.browser import CHROMIUM, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def test_sidebar_shows_a_block_plainly_and_clears_it(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    httpx.post(
        f"{server.http}/api/conversations/web-guard/messages",
        json={"role": "customer", "text": "I was charged twice and nobody answers my emails!!"},
    )
    page.goto(f"{server.http}/?conversation=web-guard&lang=en")
    page.locator("#status[data-kind=connected]").wait_for()
    page.locator("#draft").fill("Are you blind? The refund policy is on the invoice. That's not my department.")
    guard = page.locator('#guard[data-blocked="true"]')
    guard.wait_for()
    text = guard.inner_text()
    assert "Blocked: do not send this draft" in text and "⊘" in text  # words and an icon, not colour alone
    assert "are you blind" in text.lower() and "not my department" in text  # each hit, with why
    assert "Missing" in text  # the first reply has no greeting: a must-say, as a warning
    assert page.locator('#guard li[data-severity="block"]').count() == 1
    assert page.locator('#guard li[data-severity="block"]').first.inner_text().startswith("⊘")  # blocks first
    shot(page, "guard-block", tmp_path)
    page.locator("#draft").fill("Hi, thanks for waiting. I'll get the billing team on the double charge now.")
    page.wait_for_function("() => document.getElementById('guard').hidden")
    page.locator("#lang").click()  # the same in Chinese, Traditional draft folded to the Simplified rule
    page.locator("#draft").fill("您好，妳是不是傻，說明書上寫得很清楚。")
    page.locator('#guard[data-blocked="true"]').wait_for()
    assert "已拦截" in page.locator("#guard").inner_text() and "妳是不是傻" in page.locator("#guard").inner_text()


def test_widget_raises_a_host_event_that_stops_the_send(page, server, host_site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    origin, pages = host_site
    pages["/ticket/9"] = f"""<!doctype html><html><head><title>Acme Helpdesk</title></head><body>
        <h1>Acme Helpdesk</h1><textarea id="reply" aria-label="Reply"></textarea>
        <button id="send" type="button">Send</button><p id="why"></p>
        <script>
          addEventListener("agentassist:guard", (e) => {{
            if (e.detail.text !== document.getElementById("reply").value) return;  // an older draft
            document.getElementById("send").disabled = !e.detail.allowed;
            document.getElementById("why").textContent =
              e.detail.hits.filter((h) => h.severity === "block").map((h) => h.text + ": " + h.why).join("; ");
          }});
          document.getElementById("reply").addEventListener("input",
            (e) => window.AgentAssist && window.AgentAssist.check(e.target.value));
        </script>
        <script src="{server.http}/widget.js" data-conversation="web-guard-widget" data-lang="en"></script>
        </body></html>"""
    page.goto(f"{origin}/ticket/9")
    widget = page.frame_locator("iframe[data-assist-widget]")
    widget.locator("#status[data-kind=connected]").wait_for()
    page.fill("#reply", "Hi, that's a stupid question, it's on page one.")
    page.wait_for_function("() => document.getElementById('send').disabled")
    assert "stupid" in page.inner_text("#why")
    widget.locator('#guard[data-blocked="true"]').wait_for()  # the sidebar shows the same block
    assert page.evaluate("() => window.AgentAssist.lastCheck.allowed") is False
    shot(page, "guard-widget", tmp_path, full_page=False)
    page.fill("#reply", "Hi, it's on page one - I'll show you where.")
    page.wait_for_function("() => !document.getElementById('send').disabled")
    assert page.evaluate("() => window.AgentAssist.lastCheck.allowed") is True


def test_console_creates_edits_and_retires_a_guard_rule(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http}/console")
    page.locator("#guard-app").wait_for()
    page.locator('#g-rows tr[data-key="zh.rude.insult"]').wait_for()
    page.click("#g-new")
    page.fill("#g-key", "web.secret")
    page.fill("#g-category", "secret")
    page.select_option("#g-severity", "block")
    page.fill("#g-phrases", "internal price\n内部价")
    page.fill("#g-why", "Never quote the internal price list.")
    page.click("#g-editor button[type=submit]")
    page.locator('#g-rows tr[data-key="web.secret"]').wait_for()
    check = httpx.post(f"{server.http}/api/check", json={"text": "Hi, the internal price is 40."}).json()
    assert check["allowed"] is False and check["hits"][0]["rule"] == "web.secret"  # in effect at once
    page.select_option("#g-severity", "warn")
    page.click("#g-editor button[type=submit]")
    page.wait_for_function("() => document.getElementById('g-editor-key').textContent.includes('version 2')")
    page.click("#g-retire")
    page.locator('#g-rows tr[data-key="web.secret"] td.status-retired').wait_for()
    page.locator("#g-history > li").nth(2).wait_for()
    assert page.locator("#g-history > li").count() == 3  # create, update, delete
    assert httpx.post(f"{server.http}/api/check", json={"text": "Hi, the internal price is 40."}).json()["hits"] == []
    page.click("#g-new")
    page.select_option("#g-kind", "must_say")
    assert page.locator("#g-when").is_visible() and not page.locator("#g-exceptions").is_visible()
    page.fill("#g-category", "closing")
    page.fill("#g-phrases", "thanks")
    page.fill("#g-why", "Thank them.")
    page.select_option("#g-when", "closing")
    page.click("#g-editor button[type=submit]")  # no triggers: the server's reason is shown
    page.wait_for_function("() => document.getElementById('g-errors').textContent.includes('triggers')")
    page.fill('#g-filters input[name="q"]', "en.")  # the English rules for the screenshot
    page.click("#g-filters button[type=submit]")
    page.locator('#g-rows tr[data-key="zh.rude.insult"]').wait_for(state="detached")
    page.locator("#guard-title").scroll_into_view_if_needed()
    shot(page, "console-guard", tmp_path, full_page=False)
