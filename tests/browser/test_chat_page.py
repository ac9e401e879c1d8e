"""People chatting in browser tabs, through the whole offline stack."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, WebSocketRoute, expect

from tests.browser.pages import PHONE, WAIT_MS, join, last_message, online, open_page, say
from tests.conftest import ARTIFACTS
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.browser


async def test_two_users_full_session(browser: Browser, stack: RunningStack) -> None:
    """Alice and Bob: a broadcast, a private message by clicking a name, a group, a reply."""
    alice = await join(browser, stack, "Alice")
    bob = await join(browser, stack, "Bob")
    bob_id = await bob.evaluate("document.body.dataset.connectionId")
    # The original sample's notice, once, for the page's own connection; no raw ids of others.
    for page in (alice, bob):
        await expect(page.locator("#messages .notice").first).to_have_text(
            "You are connected, with Authorization: false", timeout=WAIT_MS)
    await expect(alice.locator("#messages .notice", has_text="Bob joined")).to_have_count(
        1, timeout=WAIT_MS)
    await expect(alice.locator("#messages")).not_to_contain_text(bob_id)
    await online(alice, "Alice", "Bob")
    await online(bob, "Alice", "Bob")
    await expect(bob.locator("#online-count")).to_have_text("2")

    await say(alice, "Hello Bob!")
    await expect(last_message(bob)).to_contain_text("Alice:Hello Bob!", timeout=WAIT_MS)
    await say(bob, "Hi Alice, good to see you.")
    await expect(last_message(alice)).to_contain_text("Bob:Hi Alice, good to see you.",
                                                      timeout=WAIT_MS)

    # A private message: click Bob in the online list, then type.
    await alice.click('#online button[data-user="Bob"]')
    await expect(alice.locator("#target")).to_have_value("user:Bob")
    await expect(alice.locator("#text")).to_be_focused()
    await say(alice, "Psst, just between us.")
    await expect(last_message(bob)).to_contain_text("private, to you", timeout=WAIT_MS)
    await expect(last_message(bob)).to_have_class("message private")
    await expect(last_message(alice)).to_contain_text("private, to Bob", timeout=WAIT_MS)

    # A group: both join "book club"; Alice writes to it; Bob sees it tagged.
    for page in (alice, bob):
        await page.fill("#group-name", "book club")
        await page.press("#group-name", "Enter")
        await expect(page.locator('#groups button[data-group="book club"]')).to_be_visible(
            timeout=WAIT_MS
        )
        await expect(page.locator("#target")).to_have_value("group:book club")
    await say(alice, "Chapter one tonight?")
    await expect(last_message(bob)).to_contain_text("#book club", timeout=WAIT_MS)
    await expect(last_message(bob)).to_contain_text("Chapter one tonight?")
    await say(bob, "Count me in.")
    await expect(last_message(alice)).to_contain_text("Bob:#book clubCount me in.",
                                                      timeout=WAIT_MS)
    await alice.screenshot(path=str(ARTIFACTS / "chat-two-users.png"))

    # Leaving the group keeps it as the target, marked, and refuses to send: the text is kept
    # and never goes to Everyone behind Bob's back.
    await bob.click('#groups button[data-leave="book club"]')
    await expect(bob.locator('#groups button[data-group="book club"]')).to_have_count(0,
                                                                                       timeout=WAIT_MS)
    await expect(bob.locator("#target")).to_have_value("group:book club")
    await expect(bob.locator("#target option:checked")).to_have_text("#book club (you left)")
    await bob.fill("#text", "meant for the club")
    await bob.press("#text", "Enter")
    await expect(bob.locator("#error")).to_have_text(
        "You are not in #book club any more, so the message was not sent.")
    await expect(bob.locator("#text")).to_have_value("meant for the club")
    await expect(alice.locator("#messages")).not_to_contain_text("meant for the club")


async def test_reload_shows_history(browser: Browser, stack: RunningStack) -> None:
    """After a reload the page reconnects by itself and shows the earlier messages once."""
    alice = await join(browser, stack, "Alice")
    bob = await join(browser, stack, "Bob")
    for text in ("first", "second"):
        await say(alice, text)
    await expect(last_message(bob)).to_contain_text("second", timeout=WAIT_MS)
    await bob.reload()
    await expect(bob.locator("#status")).to_have_attribute("data-state", "connected",
                                                           timeout=WAIT_MS)
    texts = bob.locator("#messages li.message .text")
    await expect(texts).to_have_text(["first", "second"], timeout=WAIT_MS)
    await say(alice, "third")
    await expect(texts).to_have_text(["first", "second", "third"], timeout=WAIT_MS)


async def test_user_left_and_joined_are_shown(browser: Browser, stack: RunningStack) -> None:
    """Bob closing his only tab takes him off Alice's online list, with a notice."""
    alice = await join(browser, stack, "Alice")
    bob = await join(browser, stack, "Bob")
    await online(alice, "Bob")
    await expect(alice.locator("#messages .notice", has_text="Bob joined")).to_have_count(1)
    await bob.context.close()
    await expect(alice.locator('#online button[data-user="Bob"]')).to_have_count(0,
                                                                                 timeout=WAIT_MS)
    await expect(alice.locator("#messages .notice").last).to_have_text("Bob left")


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def test_pages_reconnect_after_the_stack_restarts(browser: Browser, tmp_path: Path) -> None:
    """Service and host restart in place: both pages reconnect, keep their group, and chat."""
    data, log = tmp_path / "data", ARTIFACTS / "test_pages_reconnect.stack.log"
    stack = await start_stack(data_dir=data, log_path=log)
    again: RunningStack | None = None
    try:
        alice = await join(browser, stack, "Alice")
        bob = await join(browser, stack, "Bob")
        await say(alice, "before")
        await alice.fill("#group-name", "night")
        await alice.press("#group-name", "Enter")
        await expect(alice.locator("#target")).to_have_value("group:night", timeout=WAIT_MS)
        await alice.select_option("#target", "all")
        assert await stack.stop() == 0
        for page in (alice, bob):
            await expect(page.locator("#status")).to_have_attribute(
                "data-state", "reconnecting", timeout=WAIT_MS)
        # While disconnected Send is off, and what Bob types stays in the box.
        await expect(bob.locator("#send")).to_be_disabled()
        await bob.fill("#text", "typed while offline")
        await bob.press("#text", "Enter")
        await expect(bob.locator("#text")).to_have_value("typed while offline")
        again = await start_stack(
            data_dir=data, log_path=log, service_port=port_of(stack.service_url),
            extra_args=("--host-port", str(port_of(stack.host_url))),
        )
        for page in (alice, bob):
            await expect(page.locator("#status")).to_have_attribute(
                "data-state", "connected", timeout=WAIT_MS * 2)
        await expect(bob.locator("#send")).to_be_enabled()
        await bob.press("#text", "Enter")
        await expect(last_message(alice)).to_contain_text("Bob:typed while offline",
                                                          timeout=WAIT_MS)
        await say(bob, "after")
        await expect(last_message(alice)).to_contain_text("Bob:after", timeout=WAIT_MS)
        # Alice's new connection was put back in her group.
        await alice.select_option("#target", "group:night")
        await say(alice, "still in the group")
        await expect(last_message(alice)).to_contain_text("#night", timeout=WAIT_MS)
        assert await alice.locator("#messages li.message .text", has_text="before").count() == 1
    finally:
        assert await stack.stop() == 0
        if again is not None:
            assert await again.stop() == 0


async def test_page_is_usable_with_the_keyboard_alone(
    browser: Browser, stack: RunningStack
) -> None:
    """Join, join a group, pick a recipient and send, all from the keyboard."""
    page, _ = await open_page(browser, stack)
    await expect(page.locator("#name")).to_be_focused()
    await page.keyboard.type("Kim")
    await page.keyboard.press("Enter")
    await expect(page.locator("#text")).to_be_focused(timeout=WAIT_MS)
    await page.keyboard.type("typed, not clicked")
    await page.keyboard.press("Enter")
    await expect(last_message(page)).to_contain_text("Kim:typed, not clicked", timeout=WAIT_MS)
    await page.focus("#group-name")
    await page.keyboard.type("no/slash")
    assert await page.locator("#group-name").evaluate("e => e.validity.patternMismatch")
    await page.fill("#group-name", "")
    await page.keyboard.type("keys")
    await page.keyboard.press("Enter")
    await expect(page.locator("#target")).to_have_value("group:keys", timeout=WAIT_MS)
    await expect(page.locator("#text")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.locator("#target")).to_have_value("all")
    # Every control can be reached with Tab.
    for selector in ("#group-name", "#target", "#text"):
        assert await page.locator(selector).evaluate("e => e.tabIndex >= 0")


async def test_page_fits_a_phone(browser: Browser, stack: RunningStack) -> None:
    """At 390 px wide nothing scrolls sideways and the composer is on screen."""
    page = await join(browser, stack, "Pat", **PHONE)
    await say(page, "x" * 300)
    await expect(last_message(page)).to_contain_text("Pat:", timeout=WAIT_MS)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    await expect(page.locator("#text")).to_be_in_viewport()
    await page.screenshot(path=str(ARTIFACTS / "chat-phone.png"), full_page=True)


async def test_page_renders_markup_as_text(browser: Browser, stack: RunningStack) -> None:
    """Script in a name or a message is shown as text and never runs."""
    attack = '<img src=x onerror="window.__pwned = 1">'
    mallory = await join(browser, stack, attack)
    victim = await join(browser, stack, "Victim")
    await say(mallory, attack)
    last = last_message(victim)
    await expect(last.locator(".text")).to_have_text(attack, timeout=WAIT_MS)
    await expect(last.locator(".sender")).to_have_text(f"{attack}:")
    await online(victim, attack)
    assert await victim.locator("#messages img, #online img").count() == 0
    assert await victim.evaluate("window.__pwned") is None
    assert await mallory.evaluate("window.__pwned") is None


async def test_page_shows_refused_calls(browser: Browser, stack: RunningStack) -> None:
    """What the app refuses shows the app's reason to the user."""
    page = await join(browser, stack, "Erin")
    await page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    await page.fill("#text", "x" * 2001)
    await page.press("#text", "Enter")
    await expect(page.locator("#error")).to_have_text(
        "A message can be at most 2000 characters long.", timeout=WAIT_MS
    )
    await page.evaluate("document.getElementById('group-name').removeAttribute('pattern')")
    await page.fill("#group-name", "no/slash")
    await page.press("#group-name", "Enter")
    await expect(page.locator("#error")).to_have_text(
        "A group name can only contain letters, digits, spaces, '_' and '-'.", timeout=WAIT_MS
    )


async def test_page_asks_for_stateful_reconnect_and_falls_back_safely(
    browser: Browser, stack: RunningStack
) -> None:
    """A socket the service saw closed cannot be reattached; the page reconnects anew, keeps
    its group, and goes on chatting."""
    page, errors = await open_page(browser, stack)
    sockets: list[WebSocketRoute] = []

    def forward(route: WebSocketRoute) -> None:
        route.connect_to_server()
        sockets.append(route)

    await page.route_web_socket("**/client/**", forward)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.reload()
    await page.fill("#name", "Sam")
    await page.press("#name", "Enter")
    await expect(page.locator("#status")).to_have_attribute("data-state", "connected",
                                                            timeout=WAIT_MS)
    negotiations = [url for url in requests if "/client/negotiate?" in url]
    assert negotiations and "useStatefulReconnect=true" in negotiations[0]
    await page.fill("#group-name", "steady")
    await page.press("#group-name", "Enter")
    await expect(page.locator("#target")).to_have_value("group:steady", timeout=WAIT_MS)
    before = await page.evaluate("document.body.dataset.connectionId")

    await sockets[0].close(code=4000, reason="dropped by the test")
    await expect(page.locator("body")).not_to_have_attribute("data-connection-id", before,
                                                             timeout=WAIT_MS * 2)
    await expect(page.locator("#status")).to_have_attribute("data-state", "connected",
                                                            timeout=WAIT_MS)
    await say(page, "still here")
    await expect(last_message(page)).to_contain_text("#steady", timeout=WAIT_MS)
    await expect(last_message(page)).to_contain_text("still here")
    # The refused reattach is the one console error: the browser logs the service's 404.
    assert [e for e in errors if "Unexpected response code: 404" not in e] == [], errors


async def test_page_joins_once_however_often_the_form_is_sent(
    browser: Browser, stack: RunningStack
) -> None:
    """Sending the join form twice in a row opens one connection, not two."""
    page, errors = await open_page(browser, stack)
    await page.fill("#name", "Twice")
    await page.evaluate("const f = document.getElementById('join'); f.requestSubmit(); "
                        "f.requestSubmit();")
    await expect(page.locator("#status")).to_have_attribute(
        "data-state", "connected", timeout=WAIT_MS
    )
    watcher = await join(browser, stack, "Watcher")
    await online(watcher, "Twice")
    await expect(watcher.locator('#online button[data-user="Twice"] .count')).to_have_count(0)
    opened = [line for line in stack.lines if "opened on hub" in line and "user Twice)" in line]
    assert len(opened) == 1, opened
    assert not errors, errors
