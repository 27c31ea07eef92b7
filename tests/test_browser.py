"""The pages as a person uses them: Debian's Chromium (Playwright) against the real gunicorn server.

One browser and one server for the module; each test gets a fresh page. Expected texts come from the
server's own responses (read off the wire), never from copies of the FAQ text.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect, sync_playwright

from bot.dates import format_date_ja

from .browser import WATCH_SCRIPT, MissingSystemPackage, app_server, enforce_csp, launch, problems
from .servers import free_port

TOKEN = "browser-agent-token"
TIMEOUT_MS = 15_000


def ja(iso: str) -> str:
    return format_date_ja(date.fromisoformat(iso))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        try:
            b = launch(pw)
        except MissingSystemPackage as exc:
            pytest.fail(str(exc), pytrace=False)  # `make test` installs it: a missing browser is a failure
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def feedback_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser") / "feedback.jsonl"


@pytest.fixture(scope="module")
def base(feedback_file: Path) -> Iterator[str]:
    with app_server(feedback_file) as url:
        yield url


def _context(browser: Browser, base: str, **kw: Any) -> BrowserContext:
    ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", **kw)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.add_init_script(WATCH_SCRIPT)
    return ctx


@pytest.fixture()
def context(browser: Browser, base: str) -> Iterator[BrowserContext]:
    ctx = _context(browser, base)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture()
def page(context: BrowserContext, base: str) -> Iterator[Page]:
    p = context.new_page()
    enforce_csp(p, base)
    yield p
    assert problems(p) == [], "the page broke its Content-Security-Policy or threw"


@pytest.fixture()
def chat(page: Page, base: str) -> Page:
    page.goto(base + "/")
    return page


def _asks(page: Page) -> list[Request]:
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/api/ask") else None)
    return sent


def ask(page: Page, text: str) -> dict[str, Any]:
    """Type a question, send it with Enter; the server's answer once the widget has shown it."""
    answers = page.locator(".faqbot-answer")
    before = answers.count()
    page.fill("#faqbot-input", text)
    with page.expect_response(lambda r: r.url.endswith("/api/ask")) as info:
        page.press("#faqbot-input", "Enter")
    expect(answers).to_have_count(before + 1)
    body: dict[str, Any] = info.value.json()
    return body


def last_answer(page: Page) -> Any:
    return page.locator(".faqbot-answer").last


def whatif(page: Page, base: str, text: str, today: str | None = None, intent: str | None = None,
           **facts: str) -> Response:
    """Fill the agents' what-if form on a fresh page and compute; the API's response."""
    page.goto(base + "/agent")
    page.fill("#whatif-text", text)
    if today:
        page.fill("#whatif-today", today)
    if intent:
        page.select_option("#whatif-intent", intent)
    for name, value in facts.items():
        page.fill(f"#fact-{name}", value)
    with page.expect_response(lambda r: r.url.endswith("/api/agent/whatif")) as info:
        page.get_by_role("button", name="計算する").click()
    return info.value


# --- the customers' widget -----------------------------------------------------------------------------------


def test_enter_sends_and_the_answer_appears_in_the_log(chat: Page) -> None:
    log = chat.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_be_empty()
    answer = ask(chat, "2023年6月30日に有効期限が切れましたが、まだ更新できますか？")
    assert answer["intent"] == "renew-after-expiry"
    expect(chat.locator("#faqbot-input")).to_have_value("")
    expect(log.locator(".faqbot-msg-user")).to_have_text("あなた：2023年6月30日に有効期限が切れましたが、まだ更新できますか？")
    shown = last_answer(chat)
    expect(shown).to_contain_text(answer["answer"].split("\n")[0])
    # the computed date stands out, written the Japanese way
    deadline = ja(answer["computed"]["renewal_deadline"])
    expect(shown.locator(".faqbot-dates dd").first).to_contain_text(deadline)
    expect(shown.locator("strong.faqbot-date", has_text=deadline).first).to_be_visible()


def test_a_month_only_date_shows_the_month_and_the_range_of_days(chat: Page) -> None:
    # 先月: the rules answer for every day of that month, and computed carries "low/high"; the date panel writes
    # them as the answer does (the month, 686〜715), never as raw ISO
    answer = ask(chat, "先月に有効期限が切れました。まだ更新できますか？")
    low, high = answer["computed"]["renewal_deadline"].split("/")
    first, last = date.fromisoformat(low), date.fromisoformat(high)
    assert first.day == 1 and (first.year, first.month) == (last.year, last.month)
    item = last_answer(chat).locator(".faqbot-dates-item").first
    expect(item.locator("dd")).to_contain_text(f"{first.year}年{first.month}月")
    expect(item.locator(".faqbot-dates-note")).to_have_text("あと{}〜{}日".format(*answer["computed"]["days_left"].split("/")))
    expect(item).not_to_contain_text("/")


def test_a_whole_year_is_shown_as_the_year_as_the_answer_writes_it(chat: Page) -> None:
    # 去年: every day of 2024 gives the same rule, and the deadline varies over the whole of 2026
    answer = ask(chat, "去年有効期限が切れました。まだ更新できますか？")
    low, high = answer["computed"]["renewal_deadline"].split("/")
    first, last = date.fromisoformat(low), date.fromisoformat(high)
    assert (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year
    assert f"{first.year}年まで更新できます" in answer["answer"]
    item = last_answer(chat).locator(".faqbot-dates-item").first
    expect(item.locator("dd")).to_contain_text(f"{first.year}年")
    expect(item.locator("dd")).not_to_contain_text("12月31日")  # not 1月1日〜12月31日
    expect(item).not_to_contain_text("/")


def test_shift_enter_is_a_newline(chat: Page) -> None:
    sent = _asks(chat)
    box = chat.locator("#faqbot-input")
    box.press_sequentially("更新料金")
    box.press("Shift+Enter")
    box.press_sequentially("について")
    expect(box).to_have_value("更新料金\nについて")
    chat.wait_for_timeout(300)  # time for a request that must not happen
    assert sent == [] and chat.locator(".faqbot-msg").count() == 0
    with chat.expect_response(lambda r: r.url.endswith("/api/ask")):
        chat.get_by_role("button", name="送信").click()  # the visible send button
    assert json.loads(sent[0].post_data or "{}")["text"] == "更新料金\nについて"


def test_enter_while_the_ime_composes_does_not_send(chat: Page, context: BrowserContext) -> None:
    sent = _asks(chat)
    chat.focus("#faqbot-input")
    cdp = context.new_cdp_session(chat)
    cdp.send("Input.imeSetComposition", {"text": "こうしん", "selectionStart": 4, "selectionEnd": 4})
    chat.keyboard.press("Enter")  # confirms the conversion: keydown with isComposing
    chat.wait_for_timeout(300)
    assert sent == [] and chat.locator(".faqbot-msg").count() == 0
    cdp.send("Input.insertText", {"text": "更新できますか"})  # commits: compositionend
    expect(chat.locator("#faqbot-input")).to_have_value("更新できますか\n")  # the \n: no real IME ate the Enter
    with chat.expect_response(lambda r: r.url.endswith("/api/ask")):
        chat.keyboard.press("Enter")  # a real Enter after the composition sends
    assert json.loads(sent[0].post_data or "{}")["text"] == "更新できますか"


def test_safari_style_enter_does_not_send(chat: Page, context: BrowserContext) -> None:
    sent = _asks(chat)
    chat.fill("#faqbot-input", "更新")
    chat.focus("#faqbot-input")
    # Safari: compositionend comes first, then the confirming keydown, in the same task, with isComposing false
    sent_now = chat.evaluate("""() => {
        const box = document.querySelector('#faqbot-input');
        box.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
        box.dispatchEvent(new CompositionEvent('compositionend', {data: '更新'}));
        const e = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true});
        box.dispatchEvent(e);
        return e.defaultPrevented;
    }""")
    assert sent_now is False
    # and the keyCode 229 of a confirming key
    cdp = context.new_cdp_session(chat)
    for kind in ("rawKeyDown", "keyUp"):
        cdp.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                            "windowsVirtualKeyCode": 229, "nativeVirtualKeyCode": 229})
    chat.wait_for_timeout(300)
    assert sent == [] and chat.locator(".faqbot-msg").count() == 0
    with chat.expect_response(lambda r: r.url.endswith("/api/ask")):
        chat.keyboard.press("Enter")
    assert json.loads(sent[0].post_data or "{}")["text"].startswith("更新")


def test_follow_up_continues_the_session(chat: Page) -> None:
    sent = _asks(chat)
    first = ask(chat, "期限切れてしまったけど、まだ更新まにあう？")
    assert first["follow_up"], "precondition: the bot asks for the expiry date"
    expect(last_answer(chat).locator(".faqbot-followup")).to_have_text(first["follow_up"])
    second = ask(chat, "2023年6月30日です")
    assert json.loads(sent[1].post_data or "{}")["session_id"] == first["session_id"]
    assert second["session_id"] == first["session_id"]
    assert second["intent"] == first["intent"] and second["computed"]["renewal_deadline"] == "2025-06-30"
    item = last_answer(chat).locator(".faqbot-dates-item").first
    # a deadline already gone is labelled and coloured so (this test's today is the clock's)
    gone = not second["computed"]["renewable"]
    expect(item.locator("dt")).to_have_text("更新できる期限（過ぎています）" if gone else "更新できる期限")
    expect(item).to_have_class("faqbot-dates-item faqbot-dates-gone" if gone else "faqbot-dates-item")
    expect(item.locator("dd")).to_contain_text("2025年6月30日")


def test_a_reload_keeps_the_conversation_and_its_pending_question(chat: Page) -> None:
    sent = _asks(chat)
    first = ask(chat, "期限切れてしまったけど、まだ更新まにあう？")
    assert first["follow_up"], "precondition: the bot asks for the expiry date"
    chat.reload()
    # the log as it was, without rating buttons, and the reply still continues the question asked
    expect(chat.locator(".faqbot-msg-user")).to_have_text(["あなた：期限切れてしまったけど、まだ更新まにあう？"])
    expect(last_answer(chat).locator(".faqbot-followup")).to_have_text(first["follow_up"])
    expect(last_answer(chat).locator(".faqbot-rate")).to_have_count(0)
    second = ask(chat, "2023年6月30日です")
    assert json.loads(sent[-1].post_data or "{}")["session_id"] == first["session_id"]
    assert second["intent"] == first["intent"] and second["computed"]["renewal_deadline"] == "2025-06-30"
    # a new tab is a new conversation
    other = chat.context.new_page()
    other.goto(chat.url)
    expect(other.get_by_role("log")).to_be_empty()
    other.close()


def test_a_garbled_stored_conversation_starts_afresh(chat: Page) -> None:
    chat.evaluate("sessionStorage.setItem('faqbot-conversation', '{not json')")
    chat.reload()
    expect(chat.get_by_role("log")).to_be_empty()
    assert ask(chat, "更新後にアプリの再インストールは必要ですか？")["intent"] == "no-reinstall"


def test_the_send_button_gives_the_focus_back_to_the_box(chat: Page) -> None:
    chat.fill("#faqbot-input", "更新後にアプリの再インストールは必要ですか？")
    chat.locator(".faqbot-send").focus()
    with chat.expect_response(lambda r: r.url.endswith("/api/ask")):
        chat.keyboard.press("Enter")
    expect(chat.locator(".faqbot-answer")).to_have_count(1)
    expect(chat.locator("#faqbot-input")).to_be_focused()


def test_a_paste_longer_than_the_box_says_what_was_cut(chat: Page, context: BrowserContext) -> None:
    box, count = chat.locator("#faqbot-input"), chat.locator(".faqbot-count")
    expect(count).to_be_hidden()
    chat.evaluate("navigator.clipboard.writeText('更新について。'.repeat(200))")  # 1,400 characters
    box.focus()
    chat.keyboard.press("Control+V")
    expect(box).to_have_value(("更新について。" * 200)[:1000])
    expect(count).to_contain_text("1,000文字を超えた分は入力されませんでした")
    expect(count).to_have_attribute("aria-live", "polite")
    box.fill("")
    box.press_sequentially("あ" * 5)
    expect(count).to_be_hidden()
    box.fill("あ" * 949)
    box.press_sequentially("い")
    expect(count).to_have_text("あと50文字です（1,000文字まで）。")


def test_a_first_anniversary_is_labelled_the_first(chat: Page) -> None:
    answer = ask(chat, "初回注文は2025年1月16日です。契約応当日はいつですか？")
    assert answer["computed"]["anniversary_from_order"] == "2026-01-16"
    labels = last_answer(chat).locator(".faqbot-dates dt")
    expect(labels.first).to_have_text("最初の契約応当日")
    # the document's own example, written spaced, stands out as the computed dates do
    spaced = re.findall(r"\d{4} 年 \d{1,2} 月 \d{1,2} 日", answer["answer"])
    assert spaced, "precondition: the FAQ text has a spaced date"
    expect(last_answer(chat).locator("strong.faqbot-date", has_text=spaced[0]).first).to_be_visible()


def test_suggestions_are_buttons_that_ask(chat: Page) -> None:
    sent = _asks(chat)
    fallback = ask(chat, "ライセンスのこと")
    assert fallback["intent"] is None and fallback["suggestions"], "precondition: no answer, but suggestions"
    buttons = last_answer(chat).locator(".faqbot-suggestion")
    expect(buttons).to_have_text([s["question"] for s in fallback["suggestions"]])
    chosen = fallback["suggestions"][-1]
    with chat.expect_response(lambda r: r.url.endswith("/api/ask")) as info:
        buttons.last.click()
    assert json.loads(sent[-1].post_data or "{}")["text"] == chosen["question"]
    answer = info.value.json()
    assert answer["intent"] == chosen["intent"]
    expect(chat.locator(".faqbot-answer")).to_have_count(2)
    expect(last_answer(chat)).to_contain_text(answer["answer"].split("\n")[0])


def test_feedback_is_stored(chat: Page, feedback_file: Path) -> None:
    answer = ask(chat, "更新後にアプリの再インストールは必要ですか？")
    with chat.expect_response(lambda r: r.url.endswith("/api/feedback")) as info:
        last_answer(chat).get_by_role("button", name="役に立った").click()
    assert info.value.status == 201
    record = json.loads(feedback_file.read_text(encoding="utf-8").splitlines()[-1])
    assert record["session_id"] == answer["session_id"] and record["intent"] == answer["intent"]
    assert record["rating"] == "up" and record["version"] == answer["version"]
    expect(last_answer(chat).get_by_role("button", name="役に立った")).to_have_attribute("aria-pressed", "true")
    expect(last_answer(chat).get_by_role("button", name="役に立たなかった")).to_be_disabled()

    fallback = ask(chat, "明日の東京の天気を教えてください")
    with chat.expect_response(lambda r: r.url.endswith("/api/feedback")):
        last_answer(chat).get_by_role("button", name="役に立たなかった").click()
    record = json.loads(feedback_file.read_text(encoding="utf-8").splitlines()[-1])
    assert record["rating"] == "down" and record["intent"] is None
    assert record["session_id"] == fallback["session_id"]
    # a 👎 offers a person
    expect(last_answer(chat).get_by_role("button", name="有人サポートへ")).to_be_visible()


def test_human_support_shows_the_documents_contact(chat: Page) -> None:
    with chat.expect_response(lambda r: r.url.endswith("/api/contact")) as info:
        chat.get_by_role("button", name="有人サポートへ").click()
    contacts = info.value.json()["contacts"]
    assert len(contacts) >= 2
    shown = chat.locator(".faqbot-contact").last
    for c in contacts:  # no product known yet: every product's contact
        expect(shown).to_contain_text(c["contact"])
    answer = ask(chat, "Adobe VIP の契約応当日はいつですか？")
    chat.get_by_role("button", name="有人サポートへ").first.click()
    expect(chat.locator(".faqbot-contact")).to_have_count(2)
    mine = [c for c in contacts if c["product"] == answer["product"]]
    assert len(mine) == 1
    expect(chat.locator(".faqbot-contact").last).to_have_text(f"サポート：有人サポートのご案内{mine[0]['name']}\n"
                                                              f"{mine[0]['contact']}")


def test_html_is_shown_as_text(chat: Page) -> None:
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>太字</b>'
    ask(chat, attack)
    log = chat.get_by_role("log")
    expect(log.locator(".faqbot-msg-user .faqbot-text")).to_have_text(attack)
    assert log.locator("img, script, b").count() == 0
    assert chat.evaluate("() => window.__pwned") is None


@pytest.mark.parametrize(("status", "code", "says"), [
    (429, "rate_limited", "混み合って"),
    (400, "text_too_long", "1,000文字以内"),
    (503, "store_unavailable", "ただいま回答できません"),
    (None, None, "接続できませんでした"),
], ids=["429", "400", "503", "network"])
def test_errors_are_polite(chat: Page, status: int | None, code: str | None, says: str) -> None:
    def fail(route: Any) -> None:
        if status is None:
            route.abort("connectionrefused")
        else:
            route.fulfill(status=status, content_type="application/json", headers={"Retry-After": "7"},
                          body=json.dumps({"error": {"code": code, "message": "raw server message"}}))

    chat.route("**/api/ask", fail)
    chat.fill("#faqbot-input", "更新料はいくら？")
    chat.press("#faqbot-input", "Enter")
    notice = chat.locator(".faqbot-notice")
    expect(notice).to_contain_text(says)
    text = notice.inner_text()
    assert "{" not in text and "raw server message" not in text and "error" not in text
    expect(chat.get_by_role("button", name="送信")).to_be_enabled()  # ready for another try
    expect(chat.locator("#faqbot-input")).to_have_value("更新料はいくら？")  # without typing the question again


def test_zero_width_characters_alone_send_nothing(chat: Page) -> None:
    asked: list[str] = []
    chat.on("request", lambda r: asked.append(r.url) if r.url.endswith("/api/ask") else None)
    chat.fill("#faqbot-input", "\u200b\u2060 \ufeff")
    chat.press("#faqbot-input", "Enter")
    chat.fill("#faqbot-input", "更新料はいくら？")  # a real question after it is sent, and alone
    chat.press("#faqbot-input", "Enter")
    expect(chat.locator(".faqbot-msg-user")).to_have_count(1)
    expect(chat.locator(".faqbot-msg-bot").last).not_to_have_class("faqbot-msg faqbot-msg-bot faqbot-loading")
    assert len(asked) == 1


def test_phone_screen_has_no_horizontal_overflow(browser: Browser, base: str) -> None:
    ctx = _context(browser, base, viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        enforce_csp(page, base)
        page.goto(base + "/")
        ask(page, "期限切れてしまったけど、まだ更新まにあう？")
        ask(page, "2023年6月30日です")
        ask(page, "ライセンスのこと")
        ask(page, "注文番号 AB-20240301123456-123456789 のインボイスはどのページ？" + "長い" * 40)
        widths = page.evaluate("""() => {
            const doc = document.documentElement;
            const body = document.querySelector('.faqbot-body');
            const rights = [...document.querySelectorAll('.faqbot *')].map(e => e.getBoundingClientRect().right);
            return {doc: doc.scrollWidth, view: doc.clientWidth, body: body.scrollWidth,
                    bodyView: body.clientWidth, right: Math.max(...rights)};
        }""")
        assert widths["doc"] <= widths["view"] == 375, widths
        assert widths["body"] <= widths["bodyView"], widths
        assert widths["right"] <= 375, widths
        send = page.get_by_role("button", name="送信").bounding_box()
        assert send is not None and send["x"] + send["width"] <= 375 and send["y"] + send["height"] <= 667
        assert problems(page) == []
    finally:
        ctx.close()


def test_embedded_on_another_site(browser: Browser, base: str, tmp_path: Path) -> None:
    """The README's two lines on a page of another origin mount the same widget, which talks to the server."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>お客様のサイト</title></head><body>\n'
        "<h1>お客様のサイト</h1>\n"
        '<div id="faqbot"></div>\n'
        f'<script src="{base}/static/faqbot-widget.js" data-faqbot-api="{base}" defer></script>\n'
        "</body></html>", encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    ctx = _context(browser, base)
    try:
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{site.server_address[1]}/")
        widget = page.locator("#faqbot .faqbot")
        expect(widget.get_by_role("log")).to_have_attribute("aria-live", "polite")
        own = ctx.new_page()
        own.goto(base + "/")
        # the markup the script builds is the chat page's (the page's title is its h1, the embed's an h2)
        assert widget.aria_snapshot().replace("[level=2]", "[level=1]") == own.locator(".faqbot").aria_snapshot()
        answer = ask(page, "更新料はいくら？")
        expect(last_answer(page)).to_contain_text(answer["answer"].split("\n")[0])
        with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as info:
            last_answer(page).get_by_role("button", name="役に立った").click()
        assert info.value.status == 201
        with page.expect_response(lambda r: r.url.endswith("/api/contact")) as info:
            widget.get_by_role("button", name="有人サポートへ").first.click()
        mine = [c for c in info.value.json()["contacts"] if c["product"] == answer["product"]]
        expect(page.locator(".faqbot-contact")).to_contain_text(mine[0]["contact"])
        assert problems(page) == []
    finally:
        ctx.close()
        site.shutdown()
        site.server_close()
        thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- the agents' page ------------------------------------------------------------------------------------------


def test_agent_search_as_you_type_and_copy(page: Page, base: str) -> None:
    page.goto(base + "/agent")
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if "/api/faq?" in r.url else None)
    expect(page.locator("#search-q")).to_be_focused()  # ready: typing goes straight into the search box
    page.keyboard.type("インボイス", delay=40)
    first = page.locator(".result").first
    expect(first).to_be_visible()
    expect(page.locator("#search-status")).to_contain_text("件見つかりました")
    body = [r for r in responses if r.ok][-1].json()
    assert body["query"] == "インボイス" and body["results"]
    top = body["results"][0]
    expect(first.locator(".result-question")).to_have_text(top["question"])
    expect(page.locator(".result .score-value")).to_have_text([f"{r['score']:.3f}" for r in body["results"]])
    canned = top["answer"] + ("\n\n" + "\n".join("・" + t for t in top["links"]) if top["links"] else "")
    expect(first.locator(".answer-text")).to_have_text(canned)
    first.get_by_role("button", name="回答をコピー").click()
    expect(first.get_by_role("button", name="コピーしました")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == canned


def test_agent_search_of_a_long_message_and_a_failed_search(page: Page, base: str) -> None:
    page.goto(base + "/agent")
    # a pasted 1,000-character message: its URL was over gunicorn's request line (414) past about 450
    page.fill("#search-q", "インボイスは入金前に発行できますか。" * 55)
    expect(page.locator(".result").first).to_be_visible()
    expect(page.locator("#search-status")).to_contain_text("先頭の400文字で検索しました")
    page.route("**/api/faq?*", lambda route: route.abort("connectionrefused"))
    page.fill("#search-q", "領収書")
    expect(page.locator("#search-status")).to_have_text("サーバーに接続できませんでした。")
    expect(page.locator(".result")).to_have_count(0)  # not the long message's results under the error


def test_agent_search_warns_when_the_bot_would_refuse_the_question(page: Page, base: str) -> None:
    page.goto(base + "/agent")
    with page.expect_response(lambda r: "/api/faq?" in r.url) as info:
        page.fill("#search-q", "ノートンの更新料金")
    assert info.value.json()["out_of_scope"] is True
    expect(page.locator("#search-status")).to_contain_text("ボットはこの質問を対象外")
    expect(page.locator("#results")).to_have_class(re.compile(r"\boutside\b"))
    with page.expect_response(lambda r: "/api/faq?" in r.url and "out_of_scope" in r.text()):
        page.fill("#search-q", "更新料金")
    expect(page.locator("#search-status")).not_to_contain_text("対象外")
    expect(page.locator("#results")).not_to_have_class(re.compile(r"\boutside\b"))


def test_agent_search_status_has_one_full_stop_before_the_cut(page: Page, base: str) -> None:
    page.goto(base + "/agent")
    page.fill("#search-q", "ん" * 450)
    expect(page.locator("#search-status")).to_contain_text("先頭の400文字で検索しました")
    assert "。。" not in page.locator("#search-status").text_content()


def test_agent_product_filter(page: Page, base: str) -> None:
    with page.expect_response(lambda r: "/api/agent/facts" in r.url) as info:
        page.goto(base + "/agent")
    products = {p["id"]: p["name"] for p in info.value.json()["products"]}
    page.fill("#search-q", "期限")
    expect(page.locator(".result").first).to_be_visible()
    with page.expect_response(lambda r: "/api/faq?" in r.url and "product=adobe-vip" in r.url) as info:
        page.select_option("#search-product", "adobe-vip")
    results = info.value.json()["results"]
    assert results and all(r["product"] == "adobe-vip" for r in results)
    expect(page.locator(".result .tag")).to_have_text([products["adobe-vip"]] * len(results))


def test_agent_whatif_shows_the_dates_and_the_trace(page: Page, base: str) -> None:
    page.goto(base + "/agent")
    page.fill("#whatif-text", "期限が切れても更新できますか")
    page.fill("#whatif-today", "2025-05-15")
    page.fill("#fact-expiry", "2023-06-30")
    with page.expect_response(lambda r: r.url.endswith("/api/agent/whatif")) as info:
        page.get_by_role("button", name="計算する").click()
    sent = json.loads(info.value.request.post_data or "{}")
    assert sent["today"] == "2025-05-15" and sent["facts"] == {"expiry": "2023-06-30"}
    answer = info.value.json()
    result = page.locator(".whatif-answer")
    row = result.locator("tr[data-name='renewal_deadline'] td")
    expect(row).to_have_text(ja(answer["computed"]["renewal_deadline"]))
    assert answer["computed"]["renewal_deadline"] == "2025-06-30"
    expect(result.locator(".answer-text")).to_have_text(answer["answer"])
    trace = result.locator("details.trace")
    expect(trace).to_have_attribute("open", "")
    expect(trace.locator(".trace-rules .held")).to_contain_text(answer["trace"]["rule"])
    expect(trace).to_contain_text("基準日 2025年5月15日")
    # the computation shows the 2 years it adds, not only the date it starts from
    expect(trace).to_contain_text("renewal_deadline = add(expiry=2023年6月30日, years=2) → 2025年6月30日")
    # an as-of date past the deadline turns the answer
    page.fill("#whatif-today", "2025-07-01")
    with page.expect_response(lambda r: r.url.endswith("/api/agent/whatif")) as info:
        page.get_by_role("button", name="計算する").click()
    later = info.value.json()
    assert later["rule"] != answer["rule"]
    expect(result.locator(".trace-rules .held")).to_contain_text(later["rule"])


def test_agent_whatif_shows_a_range_for_a_month_only_date(page: Page, base: str) -> None:
    answer = whatif(page, base, "2023年5月に有効期限が切れました。まだ更新できますか", today="2026-01-10").json()
    assert answer["computed"]["renewal_deadline"] == "2025-05-01/2025-05-31"
    row = page.locator(".whatif-answer tr[data-name='renewal_deadline'] td")
    expect(row).to_have_text("2025年5月1日〜2025年5月31日")


def test_agent_whatif_shows_a_hand_over_to_another_entry(page: Page, base: str) -> None:
    # the expiry has passed: rules/virusbuster.yaml hands it to renew-after-expiry
    answer = whatif(page, base, "期限前でも更新できますか", today="2025-05-15", intent="renew-before-expiry",
                    expiry="2024-01-10").json()
    assert answer["intent"] == "renew-after-expiry"
    rules = page.locator(".whatif-answer .trace-rules")
    expect(rules.locator(".handover")).to_contain_text("renew-after-expiry")
    expect(rules).not_to_contain_text("undefined")
    expect(rules.locator(".held").last).to_contain_text(answer["rule"])


@pytest.mark.parametrize(("field", "value", "says"), [
    ("order_number", "AB-123", "「注文番号」は AB-20240116123456-123456789 の形式"),
    ("years", "99999999999999999999", "「更新年数」は 1 から 99 までの整数で入力してください。"),
])
def test_agent_whatif_bad_fact_is_explained_in_japanese_at_its_field(page: Page, base: str, field: str, value: str,
                                                                      says: str) -> None:
    response = whatif(page, base, "インボイスを発行したい", **{field: value})
    assert response.status == 400 and response.json()["error"]["code"] == "bad_fact"
    expect(page.locator("#whatif-result .error")).to_have_text(re.compile("^" + re.escape(says)))
    expect(page.locator(f"#fact-{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#fact-{field}")).to_be_focused()
    # fixed and sent again: the mark goes
    page.fill(f"#fact-{field}", "")
    with page.expect_response(lambda r: r.url.endswith("/api/agent/whatif")) as info:
        page.get_by_role("button", name="計算する").click()
    assert info.value.status == 200
    expect(page.locator(f"#fact-{field}")).not_to_have_attribute("aria-invalid", "true")


def test_agent_whatif_bad_today_is_explained_in_japanese(page: Page, base: str) -> None:
    response = whatif(page, base, "インボイスを発行したい", today="1800-01-01")
    assert response.status == 400 and response.json()["error"]["code"] == "bad_today"
    expect(page.locator("#whatif-result .error")).to_have_text(re.compile("^基準日は 1900年1月1日から"))
    expect(page.locator("#whatif-today")).to_have_attribute("aria-invalid", "true")


def test_agent_page_asks_for_a_token_the_server_started_requiring_after_it_loaded(page: Page, base: str) -> None:
    # loaded when no token was needed, then the server was restarted with AGENT_TOKEN: the page said
    # 「トークンが必要です。」 under the search box and offered no way to give one
    page.goto(base + "/agent")
    expect(page.locator("#workspace")).to_be_visible()
    page.route("**/api/faq*", lambda route: route.fulfill(
        status=401, content_type="application/json",
        body=json.dumps({"error": {"code": "unauthorized", "message": "a token is required"}})))
    with page.expect_response(lambda r: "/api/faq" in r.url) as info:
        page.fill("#search-q", "インボイス")
    assert info.value.status == 401
    expect(page.locator("#token-panel")).to_be_visible()
    expect(page.locator("#token-error")).to_have_text("この画面にはトークンが必要です。入力してください。")
    expect(page.locator("#workspace")).to_be_hidden()
    page.unroute("**/api/faq*")
    page.fill("#token-input", "any")  # this server needs none: the workspace opens again with it
    page.get_by_role("button", name="開く").click()
    expect(page.locator("#workspace")).to_be_visible()


def test_agent_token(browser: Browser, tmp_path: Path) -> None:
    with app_server(tmp_path / "feedback.jsonl", AGENT_TOKEN=TOKEN) as base:
        for path in ("/api/faq?q=%E6%9B%B4%E6%96%B0", "/api/agent/facts"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            assert refused.value.code == 401
        ctx = _context(browser, base)
        try:
            page = ctx.new_page()
            enforce_csp(page, base)
            page.goto(base + "/agent")
            expect(page.locator("#token-panel")).to_be_visible()
            expect(page.locator("#workspace")).to_be_hidden()
            page.fill("#token-input", "not-the-token")
            with page.expect_response(lambda r: "/api/agent/facts" in r.url) as info:
                page.get_by_role("button", name="開く").click()
            assert info.value.status == 401
            expect(page.locator("#token-error")).to_contain_text("トークンが正しくありません")
            expect(page.locator("#workspace")).to_be_hidden()
            page.fill("#token-input", TOKEN)
            page.get_by_role("button", name="開く").click()
            expect(page.locator("#workspace")).to_be_visible()
            page.fill("#search-q", "インボイス")
            expect(page.locator(".result").first).to_be_visible()
            page.reload()  # kept for this tab's session
            expect(page.locator("#workspace")).to_be_visible()
            assert problems(page) == []
        finally:
            ctx.close()
