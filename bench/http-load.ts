/**
 * A minimal HTTP/1.1 keep-alive client for benchmarks (as autocannon does it): one request at a time per
 * connection, responses framed by Content-Length, so the load generator costs little next to the server.
 */
import { connect, type Socket } from "node:net";

export class HttpConnection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (status: number) => void; reject: (e: Error) => void };
  readonly ready: Promise<void>;

  constructor(host: string, port: number, private readonly request: Buffer) {
    this.socket = connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("error", reject);
    });
    this.socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    this.socket.on("error", (e) => this.waiting?.reject(e));
    this.socket.on("close", () => this.waiting?.reject(new Error("connection closed")));
  }

  private parse(): void {
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end < 0 || !this.waiting) return;
    const head = this.buffer.subarray(0, end).toString("latin1");
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m) {
      this.waiting.reject(new Error(`response without content-length: ${head.split("\r\n")[0]}`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.buffer.length < total) return;
    this.buffer = this.buffer.subarray(total);
    const status = Number(head.slice(9, 12));
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve(status);
  }

  /** Send the request; resolves with the response status. */
  send(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(this.request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The bytes of a POST with a JSON body. */
export function jsonPost(host: string, path: string, body: string): Buffer {
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
