// The chat page. Every piece of user text goes through textContent, never innerHTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), join: $("join"), name: $("name"), room: $("room"),
    messages: $("messages"), composer: $("composer"), text: $("text"), error: $("error"),
  };
  // The page is served at <routePrefix>/index, so the API base is the page's own folder.
  const apiBase = new URL(".", window.location.href).href;
  let connection = null;
  let myConnectionId = null;

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

  function append(item) {
    const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
    ui.messages.append(item);
    if (atBottom) item.scrollIntoView({ block: "end" });
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function notice(text) {
    const item = document.createElement("li");
    item.className = "notice";
    item.textContent = text;
    append(item);
  }

  function renderMessage(message) {
    const item = document.createElement("li");
    item.dataset.id = message.id || "";
    if (message.connectionId === myConnectionId) item.classList.add("mine");
    const time = message.time ? new Date(message.time) : null;
    item.append(span("sender", `${message.sender}:`), span("text", message.text));
    if (time && !Number.isNaN(time.getTime())) {
      item.append(span("time", time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    }
    append(item);
  }

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

  async function connect(name, signedIn) {
    if (typeof signalR === "undefined") {
      showError("The SignalR client library could not be loaded.");
      return;
    }
    const options = signedIn ? {} : { headers: { "x-ms-client-principal-name": name } };
    connection = new signalR.HubConnectionBuilder()
      .withUrl(apiBase, options)
      .withAutomaticReconnect()
      .configureLogging(signalR.LogLevel.Warning)
      .build();
    connection.on("newMessage", renderMessage);
    connection.on("newConnection", ({ connectionId, authentication }) => {
      notice(`${connectionId} has connected, with Authorization: ${Boolean(authentication)}`);
    });
    connection.onreconnecting(() => setStatus("reconnecting", "Reconnecting…"));
    connection.onreconnected((connectionId) => {
      myConnectionId = connectionId;
      document.body.dataset.connectionId = connectionId;
      setStatus("connected", `Connected as ${name}`);
    });
    connection.onclose((error) => {
      setStatus("disconnected", "Disconnected");
      if (error) showError(readableError(error));
    });

    setStatus("connecting", "Connecting…");
    try {
      await connection.start();
    } catch (error) {
      setStatus("disconnected", "Not connected");
      showError(`Could not connect: ${readableError(error)}`);
      ui.join.hidden = false;
      return;
    }
    myConnectionId = connection.connectionId;
    document.body.dataset.connectionId = myConnectionId;
    setStatus("connected", `Connected as ${name}`);
    ui.join.hidden = true;
    ui.room.hidden = false;
    ui.text.focus();
  }

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
      await connection.invoke("broadcast", text);
      ui.text.value = "";
      showError("");
    } catch (error) {
      showError(readableError(error));
    }
  });

  appServiceIdentity().then((user) => {
    if (user) connect(user, true);
  });
})();
