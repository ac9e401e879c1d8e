// The chat page: the connection, the composer, groups and the events that tie them together.
// Every piece of user text goes through textContent (links through createElement and href),
// never innerHTML. conversation.js renders messages; people.js keeps who is online and the
// target.

import { createConversation, element, isolated } from "./conversation.js";
import { createPeople } from "./people.js";

{
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), join: $("join"), name: $("name"), joinError: $("join-error"),
    room: $("room"), messages: $("messages"), unread: $("unread"), composer: $("composer"),
    text: $("text"), send: $("send"), counter: $("counter"), error: $("error"),
    target: $("target"), online: $("online"), onlineCount: $("online-count"),
    groupForm: $("group-form"), groupName: $("group-name"), groups: $("groups"),
    connectionNotice: $("connection-notice"),
  };
  // The page is served at <routePrefix>/index, so the API base is the page's own folder.
  const apiBase = new URL(".", window.location.href).href;
  const NAME_KEY = "chat.name";
  const MAX_LENGTH = Number(document.body.dataset.maxLength) || 2000;
  const MAX_BYTES = Number(document.body.dataset.maxBytes) || 4000;
  const encoder = new TextEncoder();
  let connection = null;
  // Who this tab is: its name, its connection, and a count of connections (what a snapshot
  // may overrule).
  const session = { me: null, myConnectionId: null, epoch: 0 };
  const groups = new Set(); // groups this tab has joined (re-joined after a reconnect)
  const pending = []; // messages whose send was cut by a lost connection, sent again after it

  // -- small helpers ------------------------------------------------------------------------

  function setStatus(state, ...parts) {
    ui.status.dataset.state = state;
    ui.status.replaceChildren(...parts);
    const connected = state === "connected";
    ui.send.disabled = !connected;
    ui.composer.dataset.state = state;
  }

  function showError(text, where = ui.error) {
    where.textContent = text;
    where.hidden = !text;
    if (text && where.scrollIntoView) where.scrollIntoView({ block: "nearest" });
  }

  function readableError(error) {
    const text = String((error && error.message) || error);
    // A Python function's failure reaches the client as the worker reports it:
    // "Result: Failure\nException: InvalidMessage: <reason>\nStack: ...". Show the reason only.
    const raised = text.match(/Exception: (?:[\w.]+: )?([^\n]+)/);
    if (raised) return raised[1];
    const reason = text.replace(/^.*?on the server\.\s*/s, "");
    return reason.split("\n")[0] || text;
  }

  function connectionLost(error) {
    if (!connection || connection.state !== signalR.HubConnectionState.Connected) return true;
    return /connection (?:being |was )?(?:closed|stopped|disconnected)|underlying connection/i
      .test(String((error && error.message) || error));
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  // Bidirectional and other invisible format characters (not the joiners emoji and many
  // scripts need) and surrounding spaces are taken out of a typed name; the app refuses them.
  const HIDDEN = /[\p{Cc}\p{Zl}\p{Zp}]|(?![\u200C\u200D\u{E0020}-\u{E007F}])\p{Cf}/gu;

  function cleanName(name) {
    return name.replace(HIDDEN, "").trim();
  }

  const conversation = createConversation(ui, session);
  const { notice, renderHistory, renderMessage, setUnread, atBottom } = conversation;
  const people = createPeople(ui, session, groups, notice);
  const { applyChange, applySnapshot, chooseTarget, renderPeople, renderTargets,
    targetRefusal } = people;

  // -- the composer:  // -- the composer: the app's limits, a counter, sends that survive a lost connection ------

  function updateCounter() {
    const text = ui.text.value.trim();
    const length = [...text].length;
    const bytes = encoder.encode(text).length;
    const over = length > MAX_LENGTH || bytes > MAX_BYTES;
    ui.counter.textContent = bytes > MAX_BYTES
      ? `${bytes} / ${MAX_BYTES} bytes`
      : `${length} / ${MAX_LENGTH}`;
    ui.counter.classList.toggle("over", over);
  }

  async function deliver(message) {
    const { target, text, id } = message;
    if (target.startsWith("group:")) {
      return connection.invoke("sendToGroup", target.slice(6), text, id);
    }
    if (target.startsWith("user:")) return connection.invoke("sendToUser", target.slice(5), text, id);
    return connection.invoke("broadcast", text, id);
  }

  async function sendPending() {
    // Sent again with the same client message id: the app recognises a retry, so each message
    // is sent exactly once however often the connection dropped.
    while (pending.length && connection.state === signalR.HubConnectionState.Connected) {
      const message = pending[0];
      try {
        await deliver(message);
        pending.shift();
      } catch (error) {
        if (connectionLost(error)) return;
        pending.shift();
        showError(`Not sent: ${readableError(error)}`);
      }
    }
    if (!pending.length) ui.connectionNotice.hidden = true;
  }

  // -- groups -------------------------------------------------------------------------------

  function renderGroups() {
    ui.groups.replaceChildren();
    for (const group of [...groups].sort()) {
      const item = element("li");
      const pick = element("button", "group", `#${group}`);
      pick.type = "button";
      pick.dataset.group = group;
      pick.setAttribute("aria-label", `Write to group ${group}`);
      const leave = element("button", "leave", "Leave");
      leave.type = "button";
      leave.dataset.leave = group;
      leave.setAttribute("aria-label", `Leave group ${group}`);
      item.append(pick, leave);
      ui.groups.append(item);
    }
    renderTargets();
  }

  async function joinGroup(name) {
    const group = (await connection.invoke("joinGroup", connection.connectionId, name)) || name.trim();
    groups.add(group);
    renderGroups();
    return group;
  }

  async function leaveGroup(group) {
    await connection.invoke("leaveGroup", connection.connectionId, group);
    groups.delete(group);
    renderGroups();
  }

  async function rejoinGroups() {
    // A new connection (after an automatic reconnect) belongs to no group yet.
    for (const group of [...groups]) {
      try {
        await connection.invoke("joinGroup", connection.connectionId, group);
      } catch (error) {
        groups.delete(group);
        showError(`Could not rejoin #${group}: ${readableError(error)}`);
      }
    }
    renderGroups();
  }

  // -- the connection -----------------------------------------------------------------------

  async function appServiceIdentity() {
    // Only asked when the app says App Service Authentication is on: elsewhere it is a 404.
    if (document.body.dataset.auth !== "on") return null;
    try {
      const response = await fetch("/.auth/me", { credentials: "same-origin" });
      if (!response.ok) return null;
      const [principal] = await response.json();
      return (principal && principal.user_id) || null;
    } catch {
      return null;
    }
  }

  function retryPolicy() {
    // Keep trying for five minutes (the default gives up after four attempts): a restarted
    // service or host comes back on its own and the page with it.
    const delays = [0, 500, 1000, 2000, 5000];
    return {
      nextRetryDelayInMilliseconds: ({ previousRetryCount, elapsedMilliseconds }) =>
        elapsedMilliseconds > 300000 ? null : delays[previousRetryCount] ?? 10000,
    };
  }

  function connected(connectionId) {
    session.myConnectionId = connectionId;
    session.epoch += 1;
    document.body.dataset.connectionId = connectionId || "";
    setStatus("connected", "Connected as ", isolated(session.me));
  }

  async function connect(name, signedIn) {
    if (typeof signalR === "undefined") {
      showError("The SignalR client library could not be loaded.", ui.joinError);
      return;
    }
    // One connection per tab: a second submit (or the saved name's auto-join) while one is
    // starting or open would leave the first connection online forever.
    if (connection && connection.state !== signalR.HubConnectionState.Disconnected) return;
    session.me = name;
    const options = signedIn ? {} : { headers: { "x-ms-client-principal-name": name } };
    let builder = new signalR.HubConnectionBuilder()
      .withUrl(apiBase, options)
      .withAutomaticReconnect(retryPolicy())
      .configureLogging(signalR.LogLevel.None);
    // Stateful reconnect keeps the same connection through a short network drop, replaying
    // what was missed; a service without it simply answers as before.
    if (typeof builder.withStatefulReconnect === "function") builder = builder.withStatefulReconnect();
    connection = builder.build();
    connection.on("newMessage", (message) => renderMessage(message));
    connection.on("history", renderHistory);
    connection.on("onlineUsers", applySnapshot);
    connection.on("userJoined", (change) => applyChange(change, true));
    connection.on("userUpdated", (change) => applyChange(change, true));
    connection.on("userLeft", (change) => applyChange(change, false));
    connection.on("usersChanged", (changes) => {
      // Several changes flushed at once (a join storm): connections 0 means the user left.
      if (!Array.isArray(changes)) return;
      for (const change of changes) applyChange(change, Number(change && change.connections) > 0);
    });
    connection.on("newConnection", ({ connectionId, authentication }) => {
      // The original sample's notice, for this tab's own connection only.
      if (connectionId === session.myConnectionId) {
        notice(`You are connected, with Authorization: ${Boolean(authentication)}`);
      }
    });
    connection.onreconnecting(() => setStatus("reconnecting", "Reconnecting…"));
    connection.onreconnected(async (connectionId) => {
      connected(connectionId);
      showError("");
      await rejoinGroups();
      await sendPending();
    });
    connection.onclose((error) => {
      setStatus("disconnected", "Disconnected — reload the page to reconnect");
      if (error) showError(readableError(error));
    });

    setStatus("connecting", "Connecting…");
    try {
      await connection.start();
    } catch (error) {
      connection = null;
      setStatus("disconnected", "Not connected");
      showError(`Could not connect: ${readableError(error)}`, ui.joinError);
      ui.join.hidden = false;
      return;
    }
    if (!signedIn) sessionStorage.setItem(NAME_KEY, name);
    connected(connection.connectionId);
    ui.join.hidden = true;
    ui.room.hidden = false;
    renderPeople();
    ui.text.maxLength = MAX_LENGTH;
    updateCounter();
    ui.text.focus();
  }

  // -- events -------------------------------------------------------------------------------

  ui.join.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = cleanName(ui.name.value);
    ui.name.value = name;
    if (!name) {
      showError("Type a name with at least one visible character.", ui.joinError);
      return;
    }
    if (/[^\u0000-\u00ff]/.test(name)) {
      // Browsers refuse other characters in a request header, where the name travels here.
      showError("In development your name travels in a request header, which only takes " +
        "Latin-1 letters (no emoji or non-Latin scripts). On Azure, App Service " +
        "Authentication supplies your name instead.", ui.joinError);
      return;
    }
    showError("", ui.joinError);
    connect(name, false);
  });

  ui.composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.text.value;
    if (!text.trim() || !connection) return;
    if (connection.state !== signalR.HubConnectionState.Connected) return; // the text stays
    const target = ui.target.value;
    const refusal = targetRefusal(target);
    if (refusal) {
      showError(refusal);
      return;
    }
    const message = { id: newId(), target, text };
    ui.text.value = "";
    updateCounter();
    try {
      await deliver(message);
      showError("");
    } catch (error) {
      if (connectionLost(error)) {
        pending.push(message);
        ui.connectionNotice.textContent = "Connection lost: your message will be sent when it is back.";
        ui.connectionNotice.hidden = false;
        return;
      }
      if (!ui.text.value) ui.text.value = text; // refused: give the text back to fix it
      updateCounter();
      showError(readableError(error));
    }
  });

  ui.text.addEventListener("input", updateCounter);

  ui.text.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && ui.target.value !== "all") {
      chooseTarget("all"); // back to everyone without leaving the keyboard
    }
  });

  ui.target.addEventListener("change", () => chooseTarget(ui.target.value));

  ui.messages.addEventListener("scroll", () => {
    if (atBottom()) setUnread(0);
  });

  ui.unread.addEventListener("click", () => {
    ui.messages.lastElementChild?.scrollIntoView({ block: "end" });
    setUnread(0);
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && atBottom()) setUnread(0);
  });

  ui.online.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-user]");
    if (button && !button.disabled) chooseTarget(`user:${button.dataset.user}`);
  });

  ui.groups.addEventListener("click", async (event) => {
    const pick = event.target.closest("button[data-group]");
    if (pick) {
      chooseTarget(`group:${pick.dataset.group}`);
      return;
    }
    const leave = event.target.closest("button[data-leave]");
    if (!leave || !connection) return;
    try {
      await leaveGroup(leave.dataset.leave);
      showError("");
      ui.groupName.focus();
    } catch (error) {
      showError(readableError(error));
    }
  });

  ui.groupForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = ui.groupName.value.trim();
    if (!name || !connection) return;
    try {
      const group = await joinGroup(name);
      ui.groupName.value = "";
      showError("");
      notice(`You joined #${group}`);
      chooseTarget(`group:${group}`);
    } catch (error) {
      showError(readableError(error));
    }
  });

  appServiceIdentity().then((user) => {
    if (user) {
      connect(user, true);
      return;
    }
    const saved = sessionStorage.getItem(NAME_KEY);
    if (saved) {
      ui.name.value = saved;
      connect(saved, false);
    }
  });
}
