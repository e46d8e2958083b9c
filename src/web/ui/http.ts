/**
 * How the page talks to the dashboard's API: the session's CSRF token (sent with every call, publish and
 * console line), JSON requests, the WebSocket URL of a stream.
 */
let csrf = "";

/** An API failure: the `{id, code, detail, status}` the server answered, or a network failure. */
export class ApiError extends Error {
  constructor(readonly body: { id: string; code: number; detail: string; status: string }) {
    super(body.detail);
  }
}

/** Fetch the session (sets the session cookie) and keep its CSRF token. */
export async function openSession(): Promise<void> {
  const rsp = await fetch("/api/session", { credentials: "same-origin" });
  const body = (await rsp.json()) as { csrf: string };
  csrf = body.csrf;
}

export function csrfToken(): string {
  return csrf;
}

async function answer<T>(rsp: Response): Promise<T> {
  const text = await rsp.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { id: "micro.web", code: rsp.status, detail: text || rsp.statusText, status: rsp.statusText };
  }
  if (!rsp.ok) {
    const b = body as { error?: ApiError["body"] } & ApiError["body"];
    throw new ApiError(b.error ?? b);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } }));
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body),
    }),
  );
}

/** POST /api/call: the reply, or the error, with the latency either way. */
export async function callEndpoint(body: unknown): Promise<{ reply?: unknown; error?: ApiError["body"]; ms?: number }> {
  const rsp = await fetch("/api/call", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
  const parsed = (await rsp.json().catch(() => ({ error: { id: "micro.web", code: rsp.status, detail: rsp.statusText, status: rsp.statusText } }))) as {
    reply?: unknown;
    error?: ApiError["body"];
    ms?: number;
    id?: string;
  };
  // A refusal before the call (bad JSON, CSRF) is a bare {id, code, detail, status}.
  if (!rsp.ok && parsed.error === undefined) return { error: parsed as unknown as ApiError["body"] };
  return parsed;
}

/** The WebSocket URL of a stream call. */
export function streamUrl(service: string, endpoint: string, metadata: Record<string, string>): string {
  const q = new URLSearchParams({ service, endpoint, csrf });
  if (Object.keys(metadata).length > 0) q.set("metadata", JSON.stringify(metadata));
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/stream?${q.toString()}`;
}
