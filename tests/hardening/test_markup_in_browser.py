"""Script in names, messages and group names is shown as text, proven in Chromium.

An attacker who does not use the page (a raw SignalR client) sends markup everywhere the hub
contract takes text: its user name, broadcasts, a private message, a group message, a group
name. The victim's page must show each as literal text, create no element from it, run nothing,
and not even *attempt* inline script: a ``securitypolicyviolation`` listener catches an attempt
that the page's Content-Security-Policy would have blocked, so the test does not lean on CSP.
"""

from __future__ import annotations

import re

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from tests.hardening.chat_client import ChatClient, HubError
from tests.support.stack import RunningStack
from tests.support.timeouts import TIMEOUT

pytestmark = pytest.mark.browser
WAIT_MS = TIMEOUT * 1000

NAME = '<img src=x onerror="window.__pwned=\'name\'">'
PAYLOADS = [
    "<script>window.__pwned='script'</script>",
    '<img src=x onerror="window.__pwned=\'img\'">',
    '<svg onload="window.__pwned=\'svg\'"></svg>',
    '"><iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    "javascript:window.__pwned='href'",
]
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


async def _victim(browser: Browser, stack: RunningStack) -> Page:
    context = await browser.new_context()
    await context.add_init_script(WATCH)
    page = await context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(stack.page_url)
    await page.fill("#name", "Victim")
    await page.press("#name", "Enter")
    await expect(page.locator("#status")).to_have_attribute("data-state", "connected",
                                                            timeout=WAIT_MS)
    await page.fill("#group-name", "night")
    await page.press("#group-name", "Enter")
    await expect(page.locator("#target")).to_have_value("group:night", timeout=WAIT_MS)
    return page


async def test_markup_from_attacker_is_shown_as_text(
    browser: Browser, stack: RunningStack
) -> None:
    """Markup in a name, broadcasts, a private and a group message renders as plain text."""
    victim = await _victim(browser, stack)
    async with aiohttp.ClientSession() as http:
        attacker = await ChatClient.connect(http, stack.api_url, NAME)
        for payload in PAYLOADS:
            await attacker.invoke("broadcast", payload)
        await attacker.invoke("sendToUser", "Victim", PAYLOADS[1] + " (private)")
        await attacker.invoke("joinGroup", attacker.connection_id, "night")
        await attacker.invoke("sendToGroup", "night", PAYLOADS[2] + " (group)")
        with pytest.raises(HubError, match="group name"):
            await attacker.invoke("sendToGroup", PAYLOADS[1], "to a group named with markup")

        texts = victim.locator("#messages li.message .text")
        for expected in [*PAYLOADS, PAYLOADS[1] + " (private)", PAYLOADS[2] + " (group)"]:
            exact = re.compile(f"^{re.escape(expected)}$")
            await expect(texts.filter(has_text=exact)).to_have_count(1, timeout=WAIT_MS)
        senders = victim.locator("#messages li.message .sender")
        await expect(senders.filter(has_text=f"{NAME}:")).to_have_count(len(PAYLOADS) + 2)
        await expect(victim.locator("#online").get_by_text(NAME)).to_have_count(1)
        await attacker.close()

    injected = "#room img, #room script, #room svg, #room iframe, #room a[href^='javascript']"
    assert await victim.locator(injected).count() == 0
    assert await victim.evaluate("window.__pwned") is None
    assert await victim.evaluate("window.__violations") == []


async def test_markup_typed_as_group_name_is_refused_as_text(
    browser: Browser, stack: RunningStack
) -> None:
    """A group name with markup typed into the page is refused; the reason shows as text."""
    victim = await _victim(browser, stack)
    await victim.evaluate("document.getElementById('group-name').removeAttribute('pattern')")
    await victim.fill("#group-name", PAYLOADS[1])
    await victim.press("#group-name", "Enter")
    await expect(victim.locator("#error")).to_contain_text("group name", timeout=WAIT_MS)
    assert await victim.locator("#room img, #error img").count() == 0
    assert await victim.evaluate("window.__pwned") is None
    assert await victim.evaluate("window.__violations") == []
