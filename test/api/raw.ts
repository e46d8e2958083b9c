/**
 * Raw HTTP for the gateway tests: bytes written as they are to `host:port`, and everything the server answers
 * until it closes the connection (for requests no HTTP client would send).
 */
import { connect } from "node:net";

export function rawRequest(address: string, text: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.end(text));
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("end", () => resolve(out));
    s.on("close", () => resolve(out));
    s.on("error", reject);
  });
}
