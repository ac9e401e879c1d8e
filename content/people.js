// Who is online and where a message goes. Per-user versions settle late, repeated or stale
// presence events; the chosen target is never changed behind the user's back.

import { element, isolated } from "./conversation.js";

/**
 * ui: {online, onlineCount, target, text}; session: {me, epoch}; groups: the tab's groups;
 * notice: writes a line into the conversation.
 */
export function createPeople(ui, session, groups, notice) {
  const presence = new Map(); // user -> {online, connections, version, epoch}

  function known(user) {
    return presence.get(user) || { online: false, connections: 0, version: -1, epoch: -1 };
  }

  function applySnapshot(snapshot) {
    if (!snapshot || !Array.isArray(snapshot.users)) return;
    const listed = new Map(); // user -> {connections, version}; entries are [user, connections, version]
    for (const entry of snapshot.users) {
      if (Array.isArray(entry) && typeof entry[0] === "string") {
        listed.set(entry[0], { connections: entry[1], version: entry[2] });
      }
    }
    for (const [user, state] of presence) {
      // Someone not listed is gone, unless this connection heard of them since it opened
      // (the list is read from state that may trail the latest joins).
      if (!listed.has(user) && state.online && state.epoch < session.epoch) {
        presence.set(user, { ...state, online: false, connections: 0 });
      }
    }
    for (const [user, entry] of listed) {
      const version = Number(entry.version) || 0;
      if (version >= known(user).version) {
        presence.set(user, { online: true, connections: Number(entry.connections) || 1,
          version, epoch: session.epoch });
      }
    }
    renderPeople();
  }

  function applyChange(change, online) {
    if (!change || typeof change.user !== "string") return;
    const version = Number(change.version) || 0;
    const before = known(change.user);
    if (version <= before.version) return; // older than what this page already knows
    const connections = online ? Math.max(1, Number(change.connections) || 1) : 0;
    presence.set(change.user, { online, connections, version, epoch: session.epoch });
    if (before.online !== online && change.user !== session.me) {
      notice(isolated(change.user), online ? " joined" : " left");
    }
    renderPeople();
  }

  function renderPeople() {
    const people = [...presence].filter(([, state]) => state.online);
    people.sort(([a], [b]) => a.localeCompare(b));
    ui.online.replaceChildren();
    for (const [user, state] of people) {
      const item = element("li");
      const button = element("button", "person");
      button.append(isolated(user));
      button.type = "button";
      button.dataset.user = user;
      if (user === session.me) {
        button.append(element("span", "you", " (you)"));
        button.disabled = true;
      } else {
        button.setAttribute("aria-label", `Write to ${user} privately`);
      }
      if (state.connections > 1) {
        button.append(element("span", "count", ` ×${state.connections}`));
      }
      item.append(button);
      ui.online.append(item);
    }
    ui.onlineCount.textContent = String(people.length);
    renderTargets();
  }

  // -- where a message goes: chosen by the user, never changed behind their back ------------

  function targetLabel(value) {
    if (value.startsWith("group:")) {
      const group = value.slice(6);
      return groups.has(group) ? `#${group}` : `#${group} (you left)`;
    }
    if (value.startsWith("user:")) {
      // Options hold text only: first-strong isolates keep a right-to-left name in its place.
      const user = `\u2068${value.slice(5)}\u2069`;
      return known(value.slice(5)).online ? `${user} (private)` : `${user} (left)`;
    }
    return "Everyone";
  }

  function renderTargets() {
    const current = ui.target.value || "all";
    const values = ["all", ...[...groups].sort().map((group) => `group:${group}`)];
    for (const [user, state] of [...presence].sort(([a], [b]) => a.localeCompare(b))) {
      if (state.online && user !== session.me) values.push(`user:${user}`);
    }
    if (!values.includes(current)) values.push(current); // kept, marked as gone
    ui.target.replaceChildren(...values.map((value) => {
      const option = element("option", "", targetLabel(value));
      option.value = value;
      return option;
    }));
    ui.target.value = current;
    ui.target.title = `Sending to ${targetLabel(current)}`;
  }

  function chooseTarget(value) {
    ui.target.value = value;
    renderTargets();
    ui.text.focus();
  }

  function targetRefusal(value) {
    if (value.startsWith("user:") && !known(value.slice(5)).online) {
      return `${value.slice(5)} left, so the message was not sent. Choose someone else.`;
    }
    if (value.startsWith("group:") && !groups.has(value.slice(6))) {
      return `You are not in #${value.slice(6)} any more, so the message was not sent.`;
    }
    return "";
  }

  return { applyChange, applySnapshot, chooseTarget, known, renderPeople, renderTargets,
    targetRefusal };
}
