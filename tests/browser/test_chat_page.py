"""Two people chatting in two browser tabs, through the whole offline stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.stack import RunningStack
from tests.support.timeouts import TIMEOUT

pytestmark = pytest.mark.browser
WAIT_MS = TIMEOUT * 1000


async def join(browser: Browser, stack: RunningStack, name: str) -> Page:
    context = await browser.new_context(viewport={"width": 900, "height": 640})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(stack.page_url)
    await page.fill("#name", name)
    await page.press("#name", "Enter")
    await expect(page.locator("#status")).to_have_attribute(
        "data-state", "connected", timeout=WAIT_MS
    )
    await expect(page.locator("#join")).to_be_hidden()
    await expect(page.locator("#text")).to_be_focused()
    assert not errors, errors
    return page


async def say(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def test_two_pages_chat(browser: Browser, stack: RunningStack, artifacts: Path) -> None:
    """Alice and Bob join in two tabs and each sees the other's message."""
    alice = await join(browser, stack, "Alice")
    bob = await join(browser, stack, "Bob")
    bob_id = await bob.evaluate("document.body.dataset.connectionId")
    await expect(alice.locator("#messages .notice").last).to_have_text(
        f"{bob_id} has connected, with Authorization: false", timeout=WAIT_MS
    )

    await say(alice, "Hello Bob!")
    await expect(bob.locator("#messages li:not(.notice)").last).to_contain_text(
        "Alice:Hello Bob!", timeout=WAIT_MS
    )
    await say(bob, "Hi Alice, good to see you.")
    await expect(alice.locator("#messages li:not(.notice)").last).to_contain_text(
        "Bob:Hi Alice, good to see you.", timeout=WAIT_MS
    )
    await expect(alice.locator("#text")).to_have_value("")
    await alice.screenshot(path=str(artifacts / "chat-two-users.png"))


async def test_page_renders_markup_as_text(browser: Browser, stack: RunningStack) -> None:
    """Script in a name or a message is shown as text and never runs."""
    attack = '<img src=x onerror="window.__pwned = 1">'
    mallory = await join(browser, stack, attack)
    victim = await join(browser, stack, "Victim")
    await say(mallory, attack)
    last = victim.locator("#messages li:not(.notice)").last
    await expect(last.locator(".text")).to_have_text(attack, timeout=WAIT_MS)
    await expect(last.locator(".sender")).to_have_text(f"{attack}:")
    assert await victim.locator("#messages img").count() == 0
    assert await victim.evaluate("window.__pwned") is None
    assert await mallory.evaluate("window.__pwned") is None


async def test_page_shows_a_refused_message(browser: Browser, stack: RunningStack) -> None:
    """A message the app refuses shows the app's reason to the user."""
    page = await join(browser, stack, "Erin")
    await page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    await say(page, "x" * 2001)
    await expect(page.locator("#error")).to_have_text(
        "A message can be at most 2000 characters long.", timeout=WAIT_MS
    )
