"""Driving the chat page: open it, join, say something, find messages and people."""

from __future__ import annotations

from playwright.async_api import Browser, Locator, Page, expect

from tests.support.stack import RunningStack
from tests.support.timeouts import TIMEOUT

__all__ = ["DESKTOP", "PHONE", "WAIT_MS", "join", "last_message", "online", "open_page", "say"]

WAIT_MS = TIMEOUT * 1000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1000, "height": 680}


async def open_page(browser: Browser, stack: RunningStack, *, width: int = DESKTOP["width"],
                    height: int = DESKTOP["height"]) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    errors: list[str] = []  # uncaught errors and console errors (a failed load is one)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    await page.goto(stack.page_url)
    return page, errors


async def join(browser: Browser, stack: RunningStack, name: str, **size: int) -> Page:
    page, errors = await open_page(browser, stack, **size)
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
    await expect(page.locator("#text")).to_have_value("", timeout=WAIT_MS)


def last_message(page: Page) -> Locator:
    return page.locator("#messages li.message").last


async def online(page: Page, *names: str) -> None:
    for name in names:
        person = page.locator("#online button[data-user]").filter(has_text=name)
        await expect(person).to_be_visible(timeout=WAIT_MS)
