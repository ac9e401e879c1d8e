// A test driver around the official @microsoft/signalr client, steered by JSON lines.
//
// stdin, one command per line:
//   {"id": 1, "op": "invoke", "method": "broadcast", "args": ["hi"]}   -> result / error event
//   {"id": 2, "op": "send", "method": "broadcast", "args": ["hi"]}     -> sent / error event
//   {"op": "stop"}                                                      -> closed event, exit 0
// stdout, one event per line:
//   {"type": "started", "connectionId": "..."}          start() resolved
//   {"type": "fatal", "error": "..."}                   start() rejected (then exit 1)
//   {"type": "message", "target": "newMessage", "args": [...]}
//   {"type": "result", "id": 1, "result": ...} | {"type": "error", "id": 1, "error": "..."}
//   {"type": "reconnecting", "error": "..."} | {"type": "reconnected", "connectionId": "..."}
//   {"type": "closed", "error": "..." | null}
//
// Flags: --url URL (the app's /api base, or a service /client/?hub= URL with --token),
//   --name NAME (sent as x-ms-client-principal-name, what the page does in development),
//   --token JWT, --transport WebSockets|ServerSentEvents|LongPolling, --protocol json|messagepack,
//   --stateful, --reconnect, --listen a,b,c (client methods to subscribe to).
import { createInterface } from "node:readline";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

function parseArgs(argv) {
  const options = { listen: "newMessage,newConnection" };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].replace(/^--/, "");
    if (["stateful", "reconnect"].includes(flag)) options[flag] = true;
    else options[flag] = argv[++i];
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

const connectionOptions = {};
if (options.name !== undefined) connectionOptions.headers = { "x-ms-client-principal-name": options.name };
if (options.token) connectionOptions.accessTokenFactory = () => options.token;
if (options.transport) connectionOptions.transport = signalR.HttpTransportType[options.transport];

let builder = new signalR.HubConnectionBuilder()
  .withUrl(options.url, connectionOptions)
  .configureLogging(process.env.SIGNALR_LOG_LEVEL === "debug" ? signalR.LogLevel.Debug : signalR.LogLevel.Warning);
if (options.protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
if (options.reconnect) builder = builder.withAutomaticReconnect([0, 200, 500, 1000, 2000, 2000, 2000, 2000]);
if (options.stateful) builder = builder.withStatefulReconnect();
const connection = builder.build();

for (const target of options.listen.split(",").filter(Boolean)) {
  connection.on(target, (...args) => emit({ type: "message", target, args }));
}
connection.onreconnecting((error) => emit({ type: "reconnecting", error: error ? String(error) : null }));
connection.onreconnected((connectionId) => emit({ type: "reconnected", connectionId }));
connection.onclose((error) => emit({ type: "closed", error: error ? String(error.message ?? error) : null }));

async function run(command) {
  const { id, op, method, args = [] } = command;
  try {
    if (op === "invoke") emit({ type: "result", id, result: await connection.invoke(method, ...args) ?? null });
    else if (op === "send") { await connection.send(method, ...args); emit({ type: "sent", id }); }
    else if (op === "stop") { await connection.stop(); process.exit(0); }
    else emit({ type: "error", id, error: `unknown op ${op}` });
  } catch (error) {
    emit({ type: "error", id, error: String(error.message ?? error) });
  }
}

try {
  await connection.start();
  emit({ type: "started", connectionId: connection.connectionId });
} catch (error) {
  emit({ type: "fatal", error: String(error.message ?? error) });
  process.exit(1);
}
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim()) run(JSON.parse(line));
}).on("close", async () => { await connection.stop(); process.exit(0); });
