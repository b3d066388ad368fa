"""The web surfaces in headless Chromium (Debian's) driven by Playwright, against a real server."""

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


def usage(server: LiveServer, phrase: str) -> dict[str, int]:
    totals: dict[str, int] = httpx.get(f"{server.http}/api/phrases/{phrase}/usage").json()["totals"]
    return totals


def wait_usage(page, server: LiveServer, phrase: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(40):  # feedback is a websocket frame: give the server a moment to store it
        if usage(server, phrase)[kind] >= 1:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no {kind} recorded for phrase {phrase}")


# ---- demo: customer, agent and sidebar on one page ----------------------------------------------


def test_demo_angry_customer_then_draft_rewrite_accepted(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http}/demo?conversation=web-demo&lang=zh")
    sidebar = page.frame_locator("#sidebar")
    sidebar.locator("#status[data-kind=connected]").wait_for()
    page.fill("#customer-input", "你们这是什么垃圾服务！！！我要投诉到12315，马上给我退款！！")
    page.click("#customer-form button")
    page.locator("#agent-log li.customer").wait_for()
    sidebar.locator('#emotion[data-label="anger"]').wait_for()
    assert "愤怒" in sidebar.locator("#emotion").inner_text()  # the label in words, in the UI language
    assert sidebar.locator("#emotion .icon").inner_text()  # and an icon: colour is never the only signal
    assert sidebar.locator("#latest mark.cue").count() >= 2  # cues highlighted in the message text
    assert "威胁投诉" in sidebar.locator("#latest").inner_text()  # each with its kind, in words
    sidebar.locator("li.suggestion").first.wait_for()
    assert sidebar.locator("li.suggestion").count() >= 3
    sidebar.locator("#draft").fill("我不知道，你必须自己去查物流")
    sidebar.locator("#rewrite del").first.wait_for()
    assert any("不知道" in removed for removed in sidebar.locator("#rewrite del").all_inner_texts())
    changes = sidebar.locator("#rewrite ins").count()
    assert sidebar.locator("#rewrite .notes li").count() == changes  # every change says why
    shot(page, "demo", tmp_path)
    sidebar.locator("#accept").click()
    accepted = sidebar.locator("#draft").input_value()
    assert "我不知道" not in accepted and accepted
    page.wait_for_function("() => document.getElementById('agent-input').value.length > 0")
    assert page.input_value("#agent-input") == accepted  # the accepted rewrite lands in the agent's reply box
    page.click("#agent-form button")
    sidebar.locator("#messages li.agent").wait_for()  # the agent's reply reaches the conversation


# ---- sidebar -------------------------------------------------------------------------------------


def test_sidebar_suggestion_actions_send_feedback(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 380, "height": 900})
    page.goto(f"{server.http}/?conversation=web-side&lang=en")
    page.locator("#status[data-kind=connected]").wait_for()
    httpx.post(
        f"{server.http}/api/conversations/web-side/messages",
        json={"role": "customer", "text": "Order #A12345 still hasn't arrived and I need it for Friday!!"},
    )
    page.locator("li.suggestion").first.wait_for()
    assert page.locator("#toast").inner_text().endswith("new suggestions")  # announced to screen readers
    first = page.locator("li.suggestion").first
    phrase = first.get_attribute("data-phrase")
    slots = page.locator("input.slot")
    if slots.count():  # a value typed in one slot fills the same slot everywhere
        name = slots.first.get_attribute("data-slot")
        slots.first.fill("Friday")
        for other in page.locator(f'input.slot[data-slot="{name}"]').all():
            assert other.input_value() == "Friday"
    for slot in first.locator("input.slot").all():
        slot.fill("Friday")
    first.get_by_role("button", name="Insert").click()
    draft = page.locator("#draft").input_value()
    assert draft and "{" not in draft  # slots filled in place
    wait_usage(page, server, phrase, "used")
    second = page.locator("li.suggestion").nth(1)
    page.keyboard.press("Alt+2")
    page.locator("#toast", has_text="Suggestion 2 copied").wait_for()
    assert second.get_attribute("data-done") == "copied"
    third = page.locator("li.suggestion").nth(2)
    dismissed = third.get_attribute("data-phrase")
    before = page.locator("li.suggestion").count()
    third.get_by_role("button", name="Dismiss").click()
    assert page.locator("li.suggestion").count() == before - 1
    numbers = [n.inner_text() for n in page.locator("li.suggestion .num").all()]
    assert [n[0] for n in numbers] == [str(i) for i in range(1, before)]  # renumbered: Alt+3 is the card shown as 3
    wait_usage(page, server, dismissed, "dismissed")
    page.locator("#lang").click()  # switching the language keeps the state: nothing dismissed comes back
    assert page.locator("#suggestions-title").inner_text() == "推荐话术"
    assert page.locator("li.suggestion").count() == before - 1
    page.locator("#lang").click()
    page.evaluate("document.getElementById('scroll').scrollTop = 0")
    shot(page, "sidebar", tmp_path)


def test_sidebar_fits_320_to_400_pixels(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    httpx.post(
        f"{server.http}/api/conversations/web-narrow/messages",
        json={"role": "customer", "text": "我的包裹怎麼還沒到？！都等了一個星期了，到底什麼時候能送到？？"},
    )
    for width in (320, 400):
        page.set_viewport_size({"width": width, "height": 700})
        page.goto(f"{server.http}/?conversation=web-narrow&lang=zh")
        page.locator("li.suggestion").first.wait_for()
        page.locator("#draft").fill("我不知道什么时候到，你必须再等等")
        page.locator("#rewrite ins").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        assert page.locator("#draft").is_visible()  # the draft stays on screen while suggestions scroll
        assert page.locator("#accept").is_visible()


def test_sidebar_names_a_suggestion_for_another_reading(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http}/?lang=zh")
    script = """async (r) => { const m = await import('/static/js/i18n.js'); const out = [];
        for (const l of ['en', 'zh']) { m.setLang(l); out.push(m.reasons(r)); } return out; }"""
    reasons = {
        "emotions": [],
        "other_reading": "anxiety",
        "situations": ["delay"],
        "profile_fits": ["trust:skeptical"],
        "technique": "expectation_setting",
        "shared_terms": ["订单"],
    }
    en, zh = page.evaluate(script, reasons)
    assert en.startswith("anxiety (other reading) + delay; fits skeptical; technique: ")
    assert en.endswith("; shares: 订单")
    assert zh.startswith("焦虑（另一种解读） + 延误；适合 ")


def test_sidebar_reconnects_resyncs_and_escapes_text(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 360, "height": 900})
    page.goto(f"{server.http}/?conversation=web-drop&lang=en")
    page.locator("#status[data-kind=connected]").wait_for()
    hostile = '<img src=x onerror="window.pwned=1"><b>bold</b> where is my order??'
    httpx.post(f"{server.http}/api/conversations/web-drop/messages", json={"role": "customer", "text": hostile})
    page.locator("#messages li.customer").first.wait_for()
    assert page.locator("#messages img, #messages b, #latest img").count() == 0  # shown as text, not markup
    assert "<img src=x" in page.locator("#messages").inner_text()
    page.evaluate("window.agentAssist.socket.ws.close()")  # the network drops the socket
    page.locator("#status[data-kind=disconnected]").wait_for()
    # Sent while the sidebar is away: it can only appear through the resync after reconnecting.
    httpx.post(f"{server.http}/api/conversations/web-drop/messages", json={"role": "agent", "text": "Checking now."})
    page.locator("#status[data-kind=connected]").wait_for()
    page.locator("#messages li.agent", has_text="Checking now.").wait_for()  # resynced after reconnecting
    assert page.evaluate("window.pwned === undefined")


def test_sidebar_asks_for_a_token_when_the_service_needs_one(page, secured) -> None:  # type: ignore[no-untyped-def]
    server, secrets = secured
    page.set_viewport_size({"width": 380, "height": 800})
    page.goto(f"{server.http}/?conversation=web-auth&lang=en")
    page.locator("#status[data-kind=needToken]").wait_for()
    page.fill("#agent-token", "aa_not-a-real-token")
    page.click("#signin-button")
    page.locator("#status[data-kind=unauthorized]").wait_for()  # refused, and not retried in a loop
    assert "refused" in page.locator("#alert").inner_text()
    page.fill("#agent-token", secrets["agent"])
    page.click("#signin-button")
    page.locator("#status[data-kind=connected]").wait_for()
    assert page.locator("#signin").is_hidden()
    httpx.post(
        f"{server.http}/api/conversations/web-auth/messages",
        json={"role": "customer", "text": "Where is my refund?"},
        headers={"authorization": f"Bearer {secrets['integration']}"},
    )
    page.locator("li.suggestion").first.wait_for()
    # A token in the URL fragment signs in directly and is then taken out of the address bar.
    page.goto(f"{server.http}/?conversation=web-auth&lang=en#token={secrets['agent']}")
    page.locator("#status[data-kind=connected]").wait_for()
    assert "token" not in page.url


# ---- console -------------------------------------------------------------------------------------


def test_console_create_edit_approve_and_bad_import(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http}/console")
    page.locator("#app").wait_for()
    page.click("#new")
    page.fill("#f-key", "web.console.1")
    page.fill("#f-en", "I'll look into order {order_id} right away.")
    page.fill("#f-zh-Hans", "我马上为您查询订单。")  # the placeholder is missing here: caught before saving
    page.fill("#f-situations", "delay, delivery")
    page.fill("#f-emotions", "anxiety")
    page.select_option("#f-technique", "expectation_setting")
    page.click("#save")
    page.locator("#e-zh-Hans", has_text="placeholders differ").wait_for()
    assert page.get_attribute("#f-zh-Hans", "aria-invalid") == "true"
    page.fill("#f-zh-Hans", "我马上为您查询订单{order_id}。")
    page.click("#save")
    page.locator("#editor-errors", has_text="Saved.").wait_for()
    assert "version 1" in page.locator("#editor-key").inner_text()
    assert page.get_attribute("#f-zh-Hans", "aria-invalid") is None
    page.fill("#f-en", "I'll check order {order_id} now and update you within {hours} hours.")
    page.fill("#f-zh-Hans", "我现在为您查询订单{order_id}，{hours}小时内回复您。")
    page.fill("#f-ex-en", "where's my order??\n  \nstill no tracking, it's been 4 days")  # one per line, blanks dropped
    page.fill("#f-ex-zh-Hant", "我張單去咗邊")
    page.click("#save")
    page.locator("#editor-key", has_text="version 2").wait_for()
    assert "3 examples" in page.locator("#editor-key").inner_text()
    assert page.input_value("#f-ex-en") == "where's my order??\nstill no tracking, it's been 4 days"
    page.click("#approve")
    page.locator("#editor-key", has_text="approved").wait_for()
    page.locator("#history li", has_text="v3 status").wait_for()  # history loads after the header
    assert page.locator("#history > li").count() == 3
    edit = page.locator("#history > li", has_text="v2 update")
    assert "hours" in " ".join(edit.locator("ins").all_inner_texts())  # the edit as a character diff
    assert "right away" in " ".join(edit.locator("del").all_inner_texts())
    assert "我張單去咗邊" in edit.locator(".field", has_text="examples zh-Hant").inner_text()  # examples diffed too
    page.fill("#f-emotions", "rage")  # validation errors are shown by their field, nothing saved
    page.click("#save")
    page.locator("#editor-errors", has_text="unknown emotion").wait_for()
    assert "rage" in page.locator("#e-emotions").inner_text()
    bad = b'{"key": "ok.1", "text": {"en": "Fine."}}\n{"key": "bad.1", "text": {"en": "x"}, "emotions": ["rage"]}\n'
    page.set_input_files("#import-file", files=[{"name": "bank.jsonl", "mimeType": "application/jsonl", "buffer": bad}])
    page.click("#import button")
    page.locator("#import-result table.errors").wait_for()
    row = page.locator("#import-result tbody tr").first.inner_text()
    assert "2" in row and "bad.1" in row and "rage" in row
    page.fill("#filters input[name=q]", "web.console")
    page.click("#filters button[type=submit]")
    page.locator("#rows tr", has_text="web.console.1").wait_for()
    page.locator("#rows tr", has_text="web.console.1").locator("button").click()
    page.locator("#editor-key", has_text="web.console.1").wait_for()
    shot(page, "console", tmp_path, full_page=False)


def test_console_dry_run_then_import_and_usage_chart(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = (
        '- key: web.import.1\n  text:\n    en: "Thanks for waiting, {customer_name}."\n'
        '    zh-Hans: "感谢您的耐心等待，{customer_name}。"\n'
        "  situations: [delay]\n  emotions: [anxiety]\n"
    ).encode()
    page.goto(f"{server.http}/console")
    page.locator("#rows tr").first.wait_for()
    page.set_input_files("#import-file", files=[{"name": "one.yml", "mimeType": "application/yaml", "buffer": good}])
    page.click("#import button")
    page.locator("#import-result", has_text="Dry run, nothing written").wait_for()
    assert httpx.get(f"{server.http}/api/phrases", params={"q": "web.import.1"}).json()["count"] == 0
    page.locator("#import-result button").click()  # import for real
    page.locator("#import-result", has_text="Imported").wait_for()
    found = httpx.get(f"{server.http}/api/phrases", params={"q": "web.import.1"}).json()["data"]
    assert len(found) == 1
    pid = found[0]["id"]
    for event, count in (("shown", 8), ("used", 3), ("dismissed", 2)):
        httpx.post(f"{server.http}/api/phrases/{pid}/usage", json={"event": event, "count": count})
    page.reload()
    page.locator("#overview .bars li", has_text="web.import.1").wait_for()  # among the most used
    page.locator("#overview .bars li", has_text="web.import.1").get_by_role("button").click()
    page.locator("#usage svg.chart rect.used").wait_for()
    assert "38%" in page.locator("#usage .totals").inner_text()  # 3 used of 8 shown
    assert page.locator("#usage details table tbody tr").count() == 1  # the numbers, not only a picture
    page.locator("#usage-title").scroll_into_view_if_needed()
    shot(page, "console-usage", tmp_path, full_page=False)


def test_console_needs_a_lead_token(page, secured) -> None:  # type: ignore[no-untyped-def]
    server, secrets = secured
    page.goto(f"{server.http}/console")
    page.locator("#signin").wait_for()
    page.fill("#token", secrets["agent"])
    page.click("#signin button")
    page.locator("#signin-error", has_text="not a lead").wait_for()
    page.fill("#token", secrets["lead"])
    page.click("#signin button")
    page.locator("#rows tr").first.wait_for()
    assert page.evaluate("sessionStorage.getItem('assist-token')") == secrets["lead"]
    page.click("#signout")
    page.locator("#signin").wait_for()


# ---- widget --------------------------------------------------------------------------------------


def host_page(page, server: LiveServer, host_site, attrs: str) -> None:  # type: ignore[no-untyped-def]
    """A helpdesk page on another origin with the widget's script tag; inserted text goes into its reply box."""
    origin, pages = host_site
    pages["/ticket/7"] = f"""<!doctype html><html><head><title>Acme Helpdesk</title></head><body>
        <h1>Acme Helpdesk</h1><p>Ticket T-7 · Order A12345</p><textarea id="reply" aria-label="Reply"></textarea>
        <script>addEventListener("agentassist:insert",
            (e) => {{ document.getElementById("reply").value = e.detail.text; }});</script>
        <script src="{server.http}/widget.js" {attrs}></script></body></html>"""
    page.goto(f"{origin}/ticket/7")


def test_widget_mounts_in_a_host_page_and_follows_the_conversation(page, server, host_site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    host_page(page, server, host_site, 'data-conversation="web-widget" data-lang="en"')
    widget = page.frame_locator("iframe[data-assist-widget]")
    widget.locator("#status[data-kind=connected]").wait_for()
    assert widget.locator("#join").is_hidden()  # bound by the host: no conversation field
    httpx.post(
        f"{server.http}/api/conversations/web-widget/messages",
        json={"role": "customer", "text": "I was charged twice for my subscription!!"},
    )
    widget.locator("#messages li.customer", has_text="charged twice").wait_for()
    widget.locator("li.suggestion").first.wait_for()
    assert widget.locator("#emotion").get_attribute("data-label") != "none"
    httpx.post(
        f"{server.http}/api/conversations/web-widget/messages",
        json={"role": "customer", "text": "Hello?? Is anyone there? I want my money back NOW"},
    )
    widget.locator("#messages li.customer", has_text="money back").wait_for()  # follows the conversation
    widget.locator("li.suggestion").first.get_by_role("button", name="Insert").click()
    page.wait_for_function("() => document.getElementById('reply').value.length > 0")  # handed to the host page
    widget.locator("#scroll").evaluate("el => { el.scrollTop = 0; }")
    shot(page, "widget", tmp_path, full_page=False)
    toggle = page.locator("[data-assist-widget-box] button")
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()  # collapses, so it never hides the helpdesk for good
    assert page.locator("iframe[data-assist-widget]").is_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    widget.locator("#status[data-kind=connected]").wait_for()


def test_widget_chatwoot_mode_binds_to_the_chatwoot_conversation(page, server: LiveServer, host_site) -> None:  # type: ignore[no-untyped-def]
    host_page(page, server, host_site, 'data-mode="chatwoot" data-lang="en" data-position="inline"')
    page.evaluate("""() => window.postMessage(JSON.stringify({event: "appContext",
        data: {conversation: {id: 77, account_id: 3}}}), "*")""")
    page.wait_for_function("() => document.querySelector('iframe[data-assist-widget]').src.includes('chatwoot')")
    src = page.locator("iframe[data-assist-widget]").get_attribute("src")
    assert "conversation=chatwoot%3A3%3A77" in src
    widget = page.frame_locator("iframe[data-assist-widget]")
    widget.locator("#status[data-kind=connected]").wait_for()
    page.evaluate("""() => window.postMessage({event: "appContext",
        data: {conversation: {id: 78, account_id: 3}}}, "*")""")
    httpx.post(
        f"{server.http}/api/conversations/chatwoot:3:78/messages",
        json={"role": "customer", "text": "Any news on my parcel?"},
    )
    widget.locator("#messages li.customer", has_text="parcel").wait_for()  # moved to conversation 78
    assert page.locator("iframe[data-assist-widget]").get_attribute("src") == src  # in place, without a reload


# ---- learning from agents ----------------------------------------------------------------------


def test_learned_reasons_in_both_languages_and_the_console_reset(page, server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = "我的快递一个星期了还没到，到底什么时候能送到"
    page.goto(f"{server.http}/?conversation=web-learn&lang=zh")
    page.locator("#status[data-kind=connected]").wait_for()
    httpx.post(f"{server.http}/api/conversations/web-learn/messages", json={"role": "customer", "text": text})
    page.locator("li.suggestion").first.wait_for()
    chosen = int(page.locator("li.suggestion").nth(2).get_attribute("data-phrase"))
    suggester = server.hub.pipeline.suggester
    vector = suggester.searcher.encode_query(text)
    for _ in range(3):  # agents without a team used the third suggestion three times for this very message
        suggester.memory.record(None, chosen, "used", vector)
    httpx.post(f"{server.http}/api/conversations/web-learn/messages", json={"role": "customer", "text": text + "？"})
    card = page.locator(f'li.suggestion[data-phrase="{chosen}"]', has_text="类似消息中被采用 3 次")
    card.wait_for()
    page.locator("#lang").click()
    page.locator(f'li.suggestion[data-phrase="{chosen}"]', has_text="used 3× for similar messages").wait_for()
    page.goto(f"{server.http}/console")
    page.locator("#rows tr").first.wait_for()
    key = httpx.get(f"{server.http}/api/phrases/{chosen}").json()["key"]
    page.fill("#filters input[name=q]", key)
    page.click("#filters button[type=submit]")
    page.locator("#rows button.open", has_text=key).first.click()
    table = page.locator("#learned table")
    table.wait_for()
    assert "(no team)" in table.inner_text() and "3" in table.locator("tbody td.num").first.inner_text()
    page.locator("#reset-learned").click()
    assert "Click again to forget 3 use(s)" in page.locator("#reset-learned").inner_text()  # nothing gone yet
    assert httpx.get(f"{server.http}/api/phrases/{chosen}/learned").json()["used"] == 3
    page.locator("#reset-learned").click()
    page.locator("#learned", has_text="Reset: 3 event(s) forgotten.").wait_for()
    assert httpx.get(f"{server.http}/api/phrases/{chosen}/learned").json()["teams"] == []
