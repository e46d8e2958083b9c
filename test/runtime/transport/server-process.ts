/**
 * A tcp transport server in its own process, for tests that kill it or throw garbage at it.
 * argv[2]: JSON TcpTransportOptions. Prints the listen address on stdout; exits when stdin ends.
 * Endpoints: Echo (echo every message, then close), Hang (wait for the signal).
 */
import { tcpTransport } from "../../../src/runtime/transport/tcp/index.js";

const options = JSON.parse(process.argv[2] ?? "{}");
const listener = await tcpTransport(options).listen("127.0.0.1:0", async (s) => {
  try {
    if (s.header.endpoint === "Hang") {
      await new Promise((resolve) => s.signal.addEventListener("abort", resolve));
      return;
    }
    for await (const m of s) await s.send(m);
    s.close(undefined, { pid: String(process.pid) });
  } catch (e) {
    s.close(e as never);
  }
});
process.stdout.write(`${listener.address}\n`);
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
