// The conversation: messages as text (links through createElement and href), in time order,
// one per id, with an unread marker and count while the reader is scrolled up.

const TITLE = document.title;

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function isolated(text, className) {
  // A name or a text in its own direction, so right-to-left names and stray direction marks
  // cannot reorder what follows them (the time, the next name).
  const node = element("bdi", className, text);
  node.dir = "auto";
  return node;
}


/**
 * ui: {messages, unread}; session: {me, myConnectionId} as the page knows them.
 * Returns what the rest of the page calls.
 */
export function createConversation(ui, session) {
  const seen = new Set(); // message ids already shown: history, live messages and retries overlap
  let unread = 0;

  function atBottom() {
    const list = ui.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function setUnread(count) {
    unread = count;
    ui.unread.hidden = unread === 0;
    ui.unread.textContent = unread === 1 ? "1 new message below" : `${unread} new messages below`;
    document.title = unread ? `(${unread}) ${TITLE}` : TITLE;
  }

  function append(item, { counts = false, time = "" } = {}) {
    const bottom = atBottom();
    // In time order: a history that arrives after a live message still goes before it.
    let before = null;
    for (let node = ui.messages.lastElementChild; node; node = node.previousElementSibling) {
      if (!time || !node.dataset.time || node.dataset.time <= time) break;
      before = node;
    }
    ui.messages.insertBefore(item, before);
    if (bottom) item.scrollIntoView({ block: "end" });
    if (counts && (!bottom || document.hidden)) setUnread(unread + 1);
  }

  function notice(...parts) {
    const item = element("li", "notice");
    item.append(...parts);
    append(item);
  }

  function linkified(text) {
    // http(s) links become links; everything else stays text.
    const node = element("span", "text");
    node.dir = "auto";
    const pattern = /\bhttps?:\/\/[^\s<>"']+/gi;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      const raw = match[0].replace(/[.,;:!?)\]]+$/, "");
      let url = null;
      try {
        url = new URL(raw);
      } catch {
        url = null;
      }
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) continue;
      node.append(text.slice(last, match.index));
      const link = element("a", "", raw);
      link.href = url.href;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      node.append(link);
      last = match.index + raw.length;
    }
    node.append(text.slice(last));
    return node;
  }

  function renderMessage(message, { live = true } = {}) {
    if (!message || typeof message !== "object") return;
    if (message.id) {
      if (seen.has(message.id)) return;
      seen.add(message.id);
    }
    const item = element("li", "message");
    item.dataset.id = message.id || "";
    item.dataset.time = typeof message.time === "string" ? message.time : "";
    const mine = message.connectionId === session.myConnectionId || (session.me && message.sender === session.me);
    if (mine) item.classList.add("mine");
    if (message.isPrivate) item.classList.add("private");
    if (message.group) item.classList.add("in-group");
    const sender = element("span", "sender");
    sender.append(isolated(String(message.sender)), ":");
    item.append(sender);
    if (message.isPrivate) {
      const badge = element("span", "badge", "private, ");
      badge.append(mine ? "to " : "to you");
      if (mine) badge.append(isolated(String(message.recipient || "them")));
      item.append(badge);
    }
    if (message.group) item.append(element("span", "badge", `#${message.group}`));
    item.append(linkified(String(message.text)));
    const time = message.time ? new Date(message.time) : null;
    if (time && !Number.isNaN(time.getTime())) {
      const stamp = element("time", "time",
        time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
      stamp.dateTime = message.time;
      item.append(stamp);
    }
    append(item, { counts: live && !mine, time: item.dataset.time });
  }

  function renderHistory(messages) {
    if (!Array.isArray(messages)) return;
    for (const message of messages) renderMessage(message, { live: false });
  }

  return { atBottom, notice, renderHistory, renderMessage, setUnread };
}
