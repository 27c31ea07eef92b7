"""Driving Debian's Chromium with Playwright (no `playwright install`: its download is unreachable here).

Also a script that takes the README's screenshots of both pages:

    .venv/bin/python -m tests.browser docs/screenshots
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, Route, sync_playwright

from .servers import faqbot_server

CHROMIUM_PACKAGE = "chromium"
FONT_PACKAGE = "fonts-ipafont-gothic"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
# The policy the app sends on its pages (bot/web/hardening.py); pages are checked under it even if a change
# there drops the header, since the pages must never need inline script or style.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'")
# records what the policy blocked, and uncaught errors, from the first script on every page
WATCH_SCRIPT = """
window.__faqbotProblems = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__faqbotProblems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI);
});
window.addEventListener('error', function (e) { window.__faqbotProblems.push('error ' + e.message); });
"""


class MissingSystemPackage(RuntimeError):
    """A Debian package the browser tests need is not installed."""


def chromium_path() -> str:
    """Debian's Chromium (FAQBOT_CHROMIUM overrides); MissingSystemPackage naming the package if absent."""
    path = os.environ.get("FAQBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise MissingSystemPackage(
            f"Chromium is not installed (looked for {path}): the browser tests drive Debian's "
            f"'{CHROMIUM_PACKAGE}' package. Install it with `make sysdeps` or `apt-get install {CHROMIUM_PACKAGE}`.")
    return path


def check_japanese_font() -> None:
    """MissingSystemPackage unless fontconfig knows a Japanese font (else every kanji renders as a box)."""
    try:
        found = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        found = ""
    if not found.strip():
        raise MissingSystemPackage(
            f"no Japanese font: install Debian's '{FONT_PACKAGE}' (`make sysdeps` or "
            f"`apt-get install {FONT_PACKAGE}`) so the pages render Japanese text")


def launch(pw: Playwright) -> Browser:
    """Headless Debian Chromium with the flags that keep it off the network."""
    check_japanese_font()
    return pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)


def enforce_csp(page: Page, base: str) -> None:
    """Serve the two pages with the strict policy, adding it when the response lacks it."""

    def handle(route: Route) -> None:
        response = route.fetch()
        headers = dict(response.headers)
        headers.setdefault("content-security-policy", CSP)
        route.fulfill(response=response, headers=headers)

    for path in ("/", "/agent"):
        page.route(base + path, handle)


def problems(page: Page) -> list[str]:
    """CSP violations and uncaught script errors the page recorded (see WATCH_SCRIPT)."""
    found: list[str] = page.evaluate("() => window.__faqbotProblems || []")
    return found


def server_env(feedback_file: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: its own feedback file, no rate limit, no shared state, no token."""
    return {"FAQBOT_RATE_LIMIT": "off", "FAQBOT_FEEDBACK_FILE": str(feedback_file), "REDIS_URL": "",
            "AGENT_TOKEN": "", **extra}


@contextmanager
def app_server(feedback_file: Path, **extra: str) -> Iterator[str]:
    """`faqbot serve` → its base URL.

    One worker, as conversations live in its memory without Redis; threaded, because a sync worker is held by
    any idle connection, and Chromium opens speculative ones that a routed request never uses.
    """
    with faqbot_server(["--workers", "1", "--threads", "4"], env=server_env(feedback_file, **extra)) as (host, port):
        yield f"http://{host}:{port}"


def _ask(page: Page, text: str) -> None:
    count = page.locator(".faqbot-answer").count()
    page.fill("#faqbot-input", text)
    page.press("#faqbot-input", "Enter")
    page.locator(".faqbot-answer").nth(count).wait_for()


def screenshots(out: Path) -> list[Path]:
    """The chat page (desktop and a 375 px phone, mid-conversation) and the agents' page with results."""
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp) / "feedback.jsonl") as base, \
            sync_playwright() as pw:
        browser = launch(pw)
        try:
            for name, viewport, questions in (
                ("chat-desktop", {"width": 1100, "height": 1000},
                 ["有効期限が切れたけど、まだ更新できますか？", "2025年6月30日です"]),
                ("chat-phone", {"width": 375, "height": 667}, ["ライセンスのこと"]),
            ):
                page = browser.new_page(viewport=viewport, locale="ja-JP", timezone_id="Asia/Tokyo",
                                        device_scale_factor=2 if name == "chat-phone" else 1)
                page.goto(base + "/")
                for question in questions:
                    _ask(page, question)
                if name == "chat-desktop":
                    page.locator(".faqbot-rate-up").last.click()
                    page.locator(".faqbot-rated").wait_for()
                    page.locator(".faqbot-body").evaluate("body => { body.scrollTop = body.scrollHeight; }")
                path = out / f"{name}.png"
                page.screenshot(path=path)
                saved.append(path)
                page.close()
            page = browser.new_page(viewport={"width": 1440, "height": 1300}, locale="ja-JP",
                                    timezone_id="Asia/Tokyo")
            page.goto(base + "/agent")
            page.locator("#whatif-facts-grid input").first.wait_for()  # the form is built from /api/agent/facts
            page.locator("#search-q").press_sequentially("インボイス 発行", delay=20)
            page.locator(".result").first.wait_for()
            page.fill("#whatif-text", "期限が切れても更新できますか")
            page.fill("#whatif-today", "2025-05-15")
            page.fill("#fact-expiry", "2023-06-30")
            page.click("#whatif-submit")
            page.locator(".whatif-answer").wait_for()
            path = out / "agent.png"
            page.screenshot(path=path, full_page=True)
            saved.append(path)
        finally:
            browser.close()
    return saved


if __name__ == "__main__":
    for saved in screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(saved)
