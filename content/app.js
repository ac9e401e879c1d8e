// The chat page. Every piece of user text goes through textContent, never innerHTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), join: $("join"), name: $("name"), room: $("room"),
    messages: $("messages"), composer: $("composer"), text: $("text"), error: $("error"),
    target: $("target"), online: $("online"), onlineCount: $("online-count"),
    groupForm: $("group-form"), groupName: $("group-name"), groups: $("groups"),
  };
  // The page is served at <routePrefix>/index, so the API base is the page's own folder.
  const apiBase = new URL(".", window.location.href).href;
  const NAME_KEY = "chat.name";
  let connection = null;
  let me = null;
  let myConnectionId = null;
  const seen = new Set(); // message ids already shown: history and live messages overlap
  const presence = new Map(); // user -> {online, connections, version}
  const groups = new Set(); // groups this tab has joined (re-joined after a reconnect)

  // -- small helpers ------------------------------------------------------------------------

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  }

  function showError(text) {
    ui.error.textContent = text;
    ui.error.hidden = !text;
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

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function append(item) {
    const list = ui.messages;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(item);
    if (atBottom) item.scrollIntoView({ block: "end" });
  }

  function notice(text) {
    append(element("li", "notice", text));
  }

  // -- messages -----------------------------------------------------------------------------

  function renderMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.id) {
      if (seen.has(message.id)) return;
      seen.add(message.id);
    }
    const item = element("li", "message");
    item.dataset.id = message.id || "";
    const mine = message.connectionId === myConnectionId || (me && message.sender === me);
    if (mine) item.classList.add("mine");
    if (message.isPrivate) item.classList.add("private");
    if (message.group) item.classList.add("in-group");
    item.append(element("span", "sender", `${message.sender}:`));
    if (message.isPrivate) {
      const to = mine ? `to ${message.recipient || "them"}` : "to you";
      item.append(element("span", "badge", `private, ${to}`));
    }
    if (message.group) item.append(element("span", "badge", `#${message.group}`));
    item.append(element("span", "text", String(message.text)));
    const time = message.time ? new Date(message.time) : null;
    if (time && !Number.isNaN(time.getTime())) {
      const stamp = element("time", "time",
        time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
      stamp.dateTime = message.time;
      item.append(stamp);
    }
    append(item);
  }

  function renderHistory(messages) {
    if (!Array.isArray(messages)) return;
    for (const message of messages) renderMessage(message);
  }

  // -- presence: versions settle late or repeated events (see chat/presence.py) --------------

  function known(user) {
    return presence.get(user) || { online: false, connections: 0, version: -1 };
  }

  function applySnapshot(snapshot) {
    if (!snapshot || !Array.isArray(snapshot.users)) return;
    const version = Number(snapshot.version) || 0;
    const listed = new Map(snapshot.users.map((entry) => [entry.user, entry.connections]));
    for (const [user, state] of presence) {
      if (!listed.has(user) && state.version <= version) {
        presence.set(user, { online: false, connections: 0, version });
      }
    }
    for (const [user, connections] of listed) {
      if (known(user).version <= version) presence.set(user, { online: true, connections, version });
    }
    renderPeople();
  }

  function applyChange(change, online) {
    if (!change || typeof change.user !== "string") return;
    const version = Number(change.version) || 0;
    const before = known(change.user);
    if (version <= before.version) return; // older than what this page already knows
    presence.set(change.user, { online, connections: online ? Math.max(1, before.connections) : 0, version });
    if (before.online !== online && change.user !== me) {
      notice(`${change.user} ${online ? "joined" : "left"}`);
    }
    renderPeople();
  }

  function renderPeople() {
    const people = [...presence].filter(([, state]) => state.online).map(([user, state]) => [user, state.connections]);
    people.sort(([a], [b]) => a.localeCompare(b));
    ui.online.replaceChildren();
    for (const [user, connections] of people) {
      const item = element("li");
      const button = element("button", "person", user);
      button.type = "button";
      button.dataset.user = user;
      if (user === me) {
        button.append(element("span", "you", " (you)"));
        button.disabled = true;
      } else {
        button.setAttribute("aria-label", `Write to ${user} privately`);
      }
      if (connections > 1) button.append(element("span", "count", ` ×${connections}`));
      item.append(button);
      ui.online.append(item);
    }
    ui.onlineCount.textContent = String(people.length);
    renderTargets();
  }

  // -- where a message goes -----------------------------------------------------------------

  function renderTargets() {
    const current = ui.target.value;
    const options = [["all", "Everyone"]];
    for (const group of [...groups].sort()) options.push([`group:${group}`, `#${group}`]);
    for (const [user, state] of [...presence].sort(([a], [b]) => a.localeCompare(b))) {
      if (state.online && user !== me) options.push([`user:${user}`, `${user} (private)`]);
    }
    ui.target.replaceChildren(...options.map(([value, label]) => {
      const option = element("option", "", label);
      option.value = value;
      return option;
    }));
    ui.target.value = options.some(([value]) => value === current) ? current : "all";
  }

  function chooseTarget(value) {
    renderTargets();
    ui.target.value = value;
    ui.text.focus();
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
    const group = await connection.invoke("joinGroup", connection.connectionId, name);
    groups.add(group || name.trim());
    renderGroups();
    return group || name.trim();
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
    // App Service Authentication answers /.auth/me with the signed-in user; elsewhere it is a 404.
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
    myConnectionId = connectionId;
    document.body.dataset.connectionId = connectionId || "";
    setStatus("connected", `Connected as ${me}`);
  }

  async function connect(name, signedIn) {
    if (typeof signalR === "undefined") {
      showError("The SignalR client library could not be loaded.");
      return;
    }
    // One connection per tab: a second submit (or the saved name's auto-join) while one is
    // starting or open would leave the first connection online forever.
    if (connection && connection.state !== signalR.HubConnectionState.Disconnected) return;
    me = name;
    const options = signedIn ? {} : { headers: { "x-ms-client-principal-name": name } };
    let builder = new signalR.HubConnectionBuilder()
      .withUrl(apiBase, options)
      .withAutomaticReconnect(retryPolicy())
      .configureLogging(signalR.LogLevel.Warning);
    // Stateful reconnect keeps the same connection through a short network drop, replaying
    // what was missed; a service without it simply answers as before (signalr-protocol.md §7).
    if (typeof builder.withStatefulReconnect === "function") builder = builder.withStatefulReconnect();
    connection = builder.build();
    connection.on("newMessage", renderMessage);
    connection.on("history", renderHistory);
    connection.on("onlineUsers", applySnapshot);
    connection.on("userJoined", (change) => applyChange(change, true));
    connection.on("userLeft", (change) => applyChange(change, false));
    connection.on("newConnection", ({ connectionId, authentication }) => {
      notice(`${connectionId} has connected, with Authorization: ${Boolean(authentication)}`);
    });
    connection.onreconnecting(() => setStatus("reconnecting", "Reconnecting…"));
    connection.onreconnected(async (connectionId) => {
      connected(connectionId);
      showError("");
      await rejoinGroups();
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
      showError(`Could not connect: ${readableError(error)}`);
      ui.join.hidden = false;
      return;
    }
    if (!signedIn) sessionStorage.setItem(NAME_KEY, name);
    connected(connection.connectionId);
    ui.join.hidden = true;
    ui.room.hidden = false;
    renderPeople();
    ui.text.focus();
  }

  async function send(target, text) {
    if (target.startsWith("group:")) return connection.invoke("sendToGroup", target.slice(6), text);
    if (target.startsWith("user:")) return connection.invoke("sendToUser", target.slice(5), text);
    return connection.invoke("broadcast", text);
  }

  // -- events -------------------------------------------------------------------------------

  ui.join.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = ui.name.value.trim();
    if (!name) return;
    showError("");
    connect(name, false);
  });

  ui.composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.text.value;
    if (!text.trim() || !connection) return;
    try {
      await send(ui.target.value, text);
      ui.text.value = "";
      showError("");
    } catch (error) {
      showError(readableError(error));
    }
  });

  ui.text.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && ui.target.value !== "all") {
      ui.target.value = "all"; // back to everyone without leaving the keyboard
    }
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
})();
