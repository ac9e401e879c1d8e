// A test driver for the official @microsoft/signalr client: one Node process holds any number of
// HubConnections (as a Node app with several connections would), steered by JSON lines. Each
// connection has its own HttpClient, so cookies and tokens are never shared between them.
//
// stdin, one command per line, each naming its connection with "client":
//   {"client": 1, "op": "open", "options": {"url": "...", "name": "ann", ...}} -> started | fatal
//   {"client": 1, "id": 1, "op": "invoke", "method": "broadcast", "args": ["hi"]} -> result | error
//   {"client": 1, "id": 2, "op": "send", "method": "broadcast", "args": ["hi"]}   -> sent | error
//   {"client": 1, "op": "stop"}                                                 -> closed, exited
// stdout, one event per line, each with the "client" it belongs to:
//   {"type": "started", "connectionId": "..."}          start() resolved
//   {"type": "fatal", "error": "..."}                   start() rejected (then "exited")
//   {"type": "message", "target": "newMessage", "args": [...]}
//   {"type": "result", "id": 1, "result": ...} | {"type": "error", "id": 1, "error": "..."}
//   {"type": "reconnecting", "error": "..."} | {"type": "reconnected", "connectionId": "..."}
//   {"type": "closed", "error": "..." | null}
//   {"type": "exited"}                                  the connection is gone for good
// When stdin closes, every connection is stopped and the process exits.
//
// Options: url (the app's /api base, or a service /client/?hub= URL with token),
//   name (sent as x-ms-client-principal-name, what the page does in development), token,
//   transport WebSockets|ServerSentEvents|LongPolling, protocol json|messagepack,
//   stateful, reconnect, listen "a,b,c" (client methods to subscribe to).
import { createInterface } from "node:readline";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const connections = new Map();
const emitter = (client) => (event) => process.stdout.write(JSON.stringify({ client, ...event }) + "\n");
const logLevel = process.env.SIGNALR_LOG_LEVEL === "debug" ? signalR.LogLevel.Debug : signalR.LogLevel.Warning;

function build(options, emit) {
  const connectionOptions = {};
  if (options.name !== undefined) connectionOptions.headers = { "x-ms-client-principal-name": options.name };
  if (options.token) connectionOptions.accessTokenFactory = () => options.token;
  if (options.transport) connectionOptions.transport = signalR.HttpTransportType[options.transport];
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(options.url, connectionOptions)
    .configureLogging(logLevel);
  if (options.protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
  if (options.reconnect) builder = builder.withAutomaticReconnect([0, 200, 500, 1000, 2000, 2000, 2000, 2000]);
  if (options.stateful) builder = builder.withStatefulReconnect();
  const connection = builder.build();
  for (const target of (options.listen ?? "newMessage,newConnection").split(",").filter(Boolean)) {
    // No return value: one would be taken for a client result the server did not ask for.
    connection.on(target, (...args) => { emit({ type: "message", target, args }); });
  }
  connection.onreconnecting((error) => emit({ type: "reconnecting", error: error ? String(error) : null }));
  connection.onreconnected((connectionId) => emit({ type: "reconnected", connectionId }));
  connection.onclose((error) => emit({ type: "closed", error: error ? String(error.message ?? error) : null }));
  return connection;
}

async function open(client, options) {
  const emit = emitter(client);
  const connection = build(options, emit);
  const entry = { connection, stopping: null };
  connections.set(client, entry);
  try {
    await connection.start();
    emit({ type: "started", connectionId: connection.connectionId });
  } catch (error) {
    connections.delete(client);
    emit({ type: "fatal", error: String(error.message ?? error) });
    emit({ type: "exited" });
  }
}

function stop(client) {
  const entry = connections.get(client);
  if (!entry) return Promise.resolve();
  entry.stopping ??= entry.connection.stop().catch(() => {}).then(() => {
    connections.delete(client);
    emitter(client)({ type: "exited" });
  });
  return entry.stopping;
}

async function run(command) {
  const { client, id, op, method, args = [] } = command;
  if (op === "open") return open(client, command.options);
  if (op === "stop") return stop(client);
  const entry = connections.get(client);
  const emit = emitter(client);
  try {
    if (!entry) throw new Error(`no open connection ${client}`);
    if (op === "invoke") emit({ type: "result", id, result: await entry.connection.invoke(method, ...args) ?? null });
    else if (op === "send") { await entry.connection.send(method, ...args); emit({ type: "sent", id }); }
    else emit({ type: "error", id, error: `unknown op ${op}` });
  } catch (error) {
    emit({ type: "error", id, error: String(error.message ?? error) });
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim()) run(JSON.parse(line));
}).on("close", async () => {
  await Promise.all([...connections.keys()].map(stop));
  process.exit(0);
});
