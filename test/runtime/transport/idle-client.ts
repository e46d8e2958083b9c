/**
 * Dials argv[2], makes one call and leaves the connection open without closing it: the process must
 * still exit, because an idle connection does not keep it alive.
 */
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";

const conn = await tcpTransport().dial(process.argv[2]!);
const s = conn.openStream({ service: "test", endpoint: "Echo", contentType: "application/octet-stream", metadata: {}, kind: "unary" });
await s.send(new TextEncoder().encode("hi"));
s.closeSend();
for await (const m of s) process.stdout.write(`${new TextDecoder().decode(m)}\n`);
