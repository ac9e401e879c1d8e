"""The page's promises: who a message goes to, limits, links, direction, unread, retries.

Desktop and 390 px phone: the target and refusal test runs at both sizes, the composer limits on
the phone, the conversation's rendering on the desktop.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from chat.news import BATCH_FROM
from tests.browser.pages import DESKTOP, PHONE, WAIT_MS, join, last_message, online, open_page, say
from tests.conftest import ARTIFACTS
from tests.hardening.chat_client import ChatClient
from tests.support.stack import RunningStack, start_stack

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_page_keeps_the_chosen_recipient_and_refuses_when_they_left(
    browser: Browser, stack: RunningStack, size: dict[str, int],
) -> None:
    """Bob leaves: Alice's target stays "Bob", marked as left; her private text is refused,
    kept, shown next to the composer, and never broadcast."""
    alice = await join(browser, stack, "Alice", **size)
    bob = await join(browser, stack, "Bob", **size)
    await online(alice, "Bob")
    await alice.click('#online button[data-user="Bob"]')
    target = alice.locator("#target")
    await expect(target).to_have_value("user:Bob")
    await expect(target).to_be_in_viewport()
    await expect(alice.locator("label.target-label")).to_have_text("To")
    await say(alice, "first, privately")
    await expect(target).to_have_value("user:Bob")  # still Bob after sending
    await expect(last_message(bob)).to_contain_text("private, to you", timeout=WAIT_MS)

    await bob.context.close()
    await expect(alice.locator("#target option:checked")).to_contain_text("Bob",
                                                                          timeout=WAIT_MS)
    await expect(alice.locator("#target option:checked")).to_contain_text("(left)",
                                                                          timeout=WAIT_MS)
    await alice.fill("#text", "are you still there?")
    await alice.press("#text", "Enter")
    error = alice.locator("#error")
    await expect(error).to_have_text("Bob left, so the message was not sent. Choose someone "
                                     "else.")
    await expect(error).to_be_in_viewport()
    await expect(target).to_have_value("user:Bob")
    await expect(alice.locator("#text")).to_have_value("are you still there?")
    carol = await join(browser, stack, "Carol", **size)
    await expect(carol.locator("#messages li.message")).to_have_count(0)  # nothing in history
    await alice.screenshot(path=str(ARTIFACTS / f"chat-recipient-left-{size['width']}.png"))
    await carol.context.close()


async def test_page_composer_takes_its_limits_from_the_app_on_a_phone(
    browser: Browser, tmp_path: Path,
) -> None:
    """CHAT_MAX_MESSAGE_LENGTH=20 and CHAT_MAX_MESSAGE_BYTES=40: the counter says so, and the
    app's refusal shows next to the composer, on screen."""
    stack = await start_stack(
        data_dir=tmp_path / "data", log_path=ARTIFACTS / "test_page_limits.stack.log",
        env={"CHAT_MAX_MESSAGE_LENGTH": "20", "CHAT_MAX_MESSAGE_BYTES": "40"})
    try:
        page = await join(browser, stack, "Pat", **PHONE)
        assert await page.locator("#text").evaluate("e => e.maxLength") == 20
        counter = page.locator("#counter")
        await expect(counter).to_have_text("0 / 20")
        await page.locator("#text").press_sequentially("hello")
        await expect(counter).to_have_text("5 / 20")
        await page.fill("#text", "漢" * 14)  # 14 characters, 42 bytes
        await expect(counter).to_have_text("42 / 40 bytes")
        await expect(counter).to_have_class(re.compile(r"\bover\b"))
        await page.press("#text", "Enter")
        error = page.locator("#error")
        await expect(error).to_contain_text("at most 40 bytes long; this one has 42",
                                            timeout=WAIT_MS)
        await expect(error).to_be_in_viewport()
        await expect(page.locator("#text")).to_have_value("漢" * 14)  # kept, to fix it
        await page.screenshot(path=str(ARTIFACTS / "chat-phone-limits.png"))
    finally:
        assert await stack.stop() == 0


async def test_page_renders_links_isolates_names_and_counts_unread(
    browser: Browser, stack: RunningStack,
) -> None:
    """A clean load logs no error; http(s) links become safe links and nothing else does;
    names and texts keep their own direction; scrolled up, new messages are counted in a marker
    and in the title; tab counts follow a second tab opening and closing."""
    reader, errors = await open_page(browser, stack)
    await reader.fill("#name", "שרה")  # the header cannot carry it: said plainly, no request
    await reader.press("#name", "Enter")
    await expect(reader.locator("#join-error")).to_contain_text("Latin-1")
    await reader.fill("#name", "Rita")
    await reader.press("#name", "Enter")
    await expect(reader.locator("#status")).to_have_attribute("data-state", "connected",
                                                              timeout=WAIT_MS)
    writer = await join(browser, stack, "Will")
    async with aiohttp.ClientSession() as http:
        # A right-to-left name, as App Service Authentication (or any client) may send it.
        sarah = await ChatClient.connect(http, stack.api_url, "שרה")
        await sarah.invoke("broadcast", "שלום \u202eoverride")
        await expect(last_message(reader).locator(".sender bdi")).to_have_text("שרה",
                                                                               timeout=WAIT_MS)
        await sarah.close()
    rtl = last_message(reader)
    await expect(rtl.locator(".sender bdi")).to_have_attribute("dir", "auto")
    await expect(rtl.locator(".text")).to_have_attribute("dir", "auto")
    await expect(rtl.locator("time")).to_be_visible()
    await say(writer, "docs at https://learn.microsoft.com/azure/, not javascript:alert(1) "
                      "nor <a href=x>this</a>")
    message = last_message(reader)
    await expect(message).to_contain_text("docs at", timeout=WAIT_MS)
    links = message.locator("a")
    await expect(links).to_have_count(1)
    await expect(links).to_have_attribute("href", "https://learn.microsoft.com/azure/")
    await expect(links).to_have_attribute("rel", "noopener noreferrer")
    await expect(links).to_have_text("https://learn.microsoft.com/azure/")

    for n in range(25):
        await say(writer, f"filler {n}")
    await expect(last_message(reader)).to_contain_text("filler 24", timeout=WAIT_MS)
    await reader.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
    await say(writer, "while you read up there")
    unread = reader.locator("#unread")
    await expect(unread).to_have_text("1 new message below", timeout=WAIT_MS)
    await expect(reader).to_have_title("(1) Serverless chat")
    await unread.click()
    await expect(unread).to_be_hidden()
    await expect(reader).to_have_title("Serverless chat")

    await expect(unread).to_be_hidden()
    second = await join(browser, stack, "Rita")
    count = reader.locator('#online button[data-user="Rita"] .count')
    await expect(count).to_have_text(" ×2", timeout=WAIT_MS)
    await second.context.close()
    await expect(count).to_have_count(0, timeout=WAIT_MS)

    # A dozen people at once: their arrivals come batched (usersChanged), and so do their leaves.
    people = reader.locator("#online-count")
    await expect(people).to_have_text("2")
    async with aiohttp.ClientSession() as http:
        crowd = await asyncio.gather(*(ChatClient.connect(http, stack.api_url, f"guest{n}")
                                       for n in range(12)))
        await expect(people).to_have_text("14", timeout=WAIT_MS)
        await asyncio.gather(*(guest.close() for guest in crowd))
    await expect(people).to_have_text("2", timeout=WAIT_MS)
    flushes = [int(m.group(1)) for line in stack.lines
               if (m := re.search(r"presence: (\d+) changes in one flush", line))]
    assert max(flushes, default=0) >= BATCH_FROM, "a usersChanged batch reached the page"
    assert errors == [], errors


def _records(message: str | bytes) -> list[dict[str, object]]:
    text = message.decode() if isinstance(message, bytes) else message
    return [json.loads(part) for part in text.split("\x1e") if part.strip()]


async def test_page_sends_a_message_cut_by_a_lost_connection_exactly_once(
    browser: Browser, stack: RunningStack,
) -> None:
    """The connection drops after the app took Alice's message but before she heard back: the
    page sends it again once it is back, with the same id, and everyone sees it once."""
    alice, _ = await open_page(browser, stack)
    sockets: list[WebSocketRoute] = []
    closing: list[asyncio.Future[None]] = []
    cut: dict[str, object] = {"armed": True, "invocation": None}

    async def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        sockets.append(socket)

        def from_page(message: str | bytes) -> None:
            for record in _records(message):
                if cut["armed"] and record.get("target") == "broadcast" and "once" in str(
                        record.get("arguments")):
                    cut["invocation"] = record.get("invocationId")
            server.send(message)

        def from_service(message: str | bytes) -> None:
            if cut["armed"] and cut["invocation"] is not None and any(
                    r.get("type") == 3 and r.get("invocationId") == cut["invocation"]
                    for r in _records(message)):
                cut["armed"] = False  # the answer is lost with the connection
                closing.append(asyncio.ensure_future(
                    socket.close(code=4000, reason="cut by the test")))
                return
            socket.send(message)

        socket.on_message(from_page)
        server.on_message(from_service)

    await alice.route_web_socket("**/client/**", route)
    await alice.reload()
    await alice.fill("#name", "Alice")
    await alice.press("#name", "Enter")
    await expect(alice.locator("#status")).to_have_attribute("data-state", "connected",
                                                             timeout=WAIT_MS)
    bob = await join(browser, stack, "Bob")
    before = await alice.evaluate("document.body.dataset.connectionId")
    await say(alice, "exactly once")
    await expect(alice.locator("body")).not_to_have_attribute("data-connection-id", before,
                                                              timeout=WAIT_MS * 2)
    await expect(alice.locator("#status")).to_have_attribute("data-state", "connected",
                                                             timeout=WAIT_MS)
    await expect(alice.locator("#connection-notice")).to_be_hidden(timeout=WAIT_MS)
    assert not cut["armed"] and len(sockets) >= 2, "the answer was cut, the page reconnected"
    await say(alice, "marker")
    await expect(last_message(bob)).to_contain_text("marker", timeout=WAIT_MS)
    for page in (alice, bob):
        texts = page.locator("#messages li.message .text", has_text="exactly once")
        await expect(texts).to_have_count(1)
    late = await join(browser, stack, "Late")
    await expect(late.locator("#messages li.message .text", has_text="exactly once")
                 ).to_have_count(1, timeout=WAIT_MS)
    await _close(alice, bob, late)


async def _close(*pages: Page) -> None:
    for page in pages:
        await page.context.close()
