/**
 * The dashboard's page (Preact + htm, bundled by src/web/bundle.ts). Every name, metadata value, field and
 * reply comes from other processes: it is only ever rendered as text (Preact escapes text and attribute
 * values; nothing here sets HTML), and the server's Content-Security-Policy runs no inline script.
 */
import { render, type ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";
import type { MethodKind, ValueRecord } from "../../runtime/definition/index.js";
import type { EndpointRecord, NodeRecord, ServiceRecord } from "../../runtime/registry/index.js";
import { typeText } from "../../runtime/registry/describe.js";
import { callEndpoint, csrfToken, getJson, openSession, postJson, streamUrl, ApiError } from "./http.js";
import { calls, consoleLines, forgetCalls, remember, rememberLine, type HistoryEntry } from "./history.js";
import { fieldValue, formFields, metadataLines, withField, type FormField } from "./fields.js";

interface Summary {
  name: string;
  versions: string[];
  nodes: number;
  app?: string;
}
interface NodeHealth {
  id: string;
  status: string;
  error?: { detail: string };
}

const KINDS = new Set<MethodKind>(["unary", "server_streaming", "client_streaming", "bidi_streaming"]);
function kindOf(ep: EndpointRecord): MethodKind {
  const s = ep.metadata?.stream as MethodKind | "true" | undefined;
  return s && KINDS.has(s as MethodKind) ? (s as MethodKind) : s === "true" ? "bidi_streaming" : "unary";
}
const KIND_TEXT: Record<MethodKind, string> = { unary: "unary", server_streaming: "server stream", client_streaming: "client stream", bidi_streaming: "bidi stream" };

const pretty = (v: unknown): string => JSON.stringify(v, null, 2);
const errorText = (e: unknown): string => pretty(e instanceof ApiError ? e.body : { detail: String((e as Error)?.message ?? e) });

// ---- routing: #/services, #/service/<name>, #/events, #/console, #/history ----

function useRoute(): string[] {
  const read = (): string[] => (location.hash.replace(/^#\/?/, "") || "services").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = (): void => setRoute(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** A replay waiting for its service page to open. */
let pendingReplay: HistoryEntry | undefined;

// ---- services ----

function useServices(): { list: Summary[] | undefined; live: boolean } {
  const [list, setList] = useState<Summary[] | undefined>(undefined);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const es = new EventSource("/api/watch/services");
    es.addEventListener("services", (e) => {
      setList(JSON.parse((e as MessageEvent<string>).data) as Summary[]);
      setLive(true);
    });
    es.onerror = () => setLive(false);
    return () => es.close();
  }, []);
  return { list, live };
}

function Health({ name, nodes }: { name: string; nodes: number }) {
  const [health, setHealth] = useState<NodeHealth[] | undefined>(undefined);
  useEffect(() => {
    let on = true;
    getJson<NodeHealth[]>(`/api/health/${encodeURIComponent(name)}`)
      .then((h) => on && setHealth(h))
      .catch(() => on && setHealth([]));
    return () => void (on = false);
  }, [name, nodes]);
  if (!health) return html`<span class="muted">…</span>`;
  const ok = health.filter((h) => h.status === "ok").length;
  const cls = health.length > 0 && ok === health.length ? "ok" : ok > 0 ? "warn" : "bad";
  const title = health.map((h) => `${h.id}: ${h.status}${h.error ? ` (${h.error.detail})` : ""}`).join("\n");
  return html`<span class=${`health ${cls}`} title=${title}>${ok}/${health.length} ok</span>`;
}

function Services({ list, live }: { list: Summary[] | undefined; live: boolean }) {
  const apps = (list ?? []).filter((s) => s.app);
  return html`<section aria-labelledby="services-h">
    <h2 id="services-h">Services <span class=${live ? "live on" : "live"} title=${live ? "live: the registry's watch is connected" : "reconnecting"}>${live ? "live" : "offline"}</span></h2>
    ${list === undefined
      ? html`<p class="muted">Loading…</p>`
      : list.length === 0
        ? html`<p class="muted">No service is registered.</p>`
        : html`<table class="services">
            <thead><tr><th scope="col">Name</th><th scope="col">Versions</th><th scope="col">Nodes</th><th scope="col">Health</th></tr></thead>
            <tbody>
              ${list.map(
                (s) => html`<tr key=${s.name} data-service=${s.name}>
                  <td><a href=${`#/service/${encodeURIComponent(s.name)}`}>${s.name}</a></td>
                  <td>${s.versions.join(", ")}</td>
                  <td>${s.nodes}</td>
                  <td>${s.app ? html`<span class="muted">web app</span>` : html`<${Health} name=${s.name} nodes=${s.nodes} />`}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <h2 id="apps-h">Web apps</h2>
    ${apps.length === 0
      ? html`<p class="muted">None: a web app is a service named <code>${"web.<name>"}</code> whose nodes have metadata <code>protocol: http</code>.</p>`
      : html`<ul class="apps" aria-labelledby="apps-h">${apps.map((a) => html`<li key=${a.name}><a href=${a.app}>${a.app}</a> <span class="muted">${a.name}</span></li>`)}</ul>`}
  </section>`;
}

// ---- one service ----

function Fields({ record }: { record: ValueRecord | undefined }): ComponentChildren {
  const values = record?.values ?? [];
  if (values.length === 0) return html`<span class="muted">{}</span>`;
  return html`<ul class="tree">
    ${values.map((f) => {
      const text = typeText(f.type);
      return html`<li><span class="fname">${f.name}</span> <span class="ftype">${text}</span>${text === f.type && f.values && f.values.length > 0 ? html`<${Fields} record=${f} />` : null}</li>`;
    })}
  </ul>`;
}

function Metadata({ md }: { md: Readonly<Record<string, string>> | undefined }) {
  const entries = Object.entries(md ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return html`<span class="muted">-</span>`;
  return html`<dl class="md">${entries.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function httpRoutes(ep: EndpointRecord): string[] {
  try {
    const rules = JSON.parse(ep.metadata?.http ?? "[]") as { method: string; path: string; body?: string }[];
    return rules.map((r) => `${r.method} ${r.path}${r.body ? ` (body: ${r.body})` : ""}`);
  } catch {
    return ep.metadata?.http ? [ep.metadata.http] : [];
  }
}

function ServiceView({ name }: { name: string }) {
  const [records, setRecords] = useState<ServiceRecord[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [open, setOpen] = useState<string | undefined>(pendingReplay?.service === name ? pendingReplay.endpoint : undefined);
  useEffect(() => {
    getJson<ServiceRecord[]>(`/api/services/${encodeURIComponent(name)}`)
      .then(setRecords)
      .catch((e: unknown) => setError(errorText(e)));
  }, [name]);
  if (error) return html`<section><h2>${name}</h2><pre class="error" role="alert">${error}</pre></section>`;
  if (!records) return html`<section><h2>${name}</h2><p class="muted">Loading…</p></section>`;
  const nodes: (NodeRecord & { version: string })[] = records.flatMap((r) => r.nodes.map((n) => ({ ...n, version: r.version })));
  const endpoints = new Map<string, EndpointRecord>();
  for (const r of records) for (const e of r.endpoints) if (!endpoints.has(e.name)) endpoints.set(e.name, e);
  const topics = [...new Set(nodes.flatMap((n) => (n.metadata?.subscribers ?? "").split(",").filter(Boolean)))].sort();
  return html`<section aria-labelledby="service-h">
    <p><a href="#/services">← Services</a></p>
    <h2 id="service-h" class="service-name">${name}</h2>
    <p>Versions: ${records.map((r) => r.version).join(", ")}</p>
    <h3>Nodes</h3>
    <table class="nodes">
      <thead><tr><th scope="col">ID</th><th scope="col">Address</th><th scope="col">Version</th><th scope="col">Metadata</th></tr></thead>
      <tbody>${nodes.map((n) => html`<tr><td>${n.id}</td><td>${n.address}</td><td>${n.version}</td><td><${Metadata} md=${n.metadata} /></td></tr>`)}</tbody>
    </table>
    <h3>Subscribers</h3>
    ${topics.length === 0 ? html`<p class="muted">No topic.</p>` : html`<ul class="topics">${topics.map((t) => html`<li>${t}</li>`)}</ul>`}
    <h3>Endpoints</h3>
    ${[...endpoints.values()].map((ep) => {
      const kind = kindOf(ep);
      const routes = httpRoutes(ep);
      return html`<article class="endpoint" data-endpoint=${ep.name} aria-label=${ep.name}>
        <h4>${ep.name} <span class=${`kind ${kind}`}>${KIND_TEXT[kind]}</span></h4>
        ${routes.length > 0 ? html`<p class="routes">HTTP: ${routes.map((r) => html`<code>${r}</code> `)}</p>` : null}
        <div class="io">
          <div><h5>Request</h5><${Fields} record=${ep.request} /></div>
          <div><h5>Response</h5><${Fields} record=${ep.response} /></div>
        </div>
        <button type="button" aria-expanded=${open === ep.name} onClick=${() => setOpen(open === ep.name ? undefined : ep.name)}>${open === ep.name ? "Close" : "Call"} ${ep.name}</button>
        ${open === ep.name ? html`<${CallPanel} service=${name} endpoint=${ep} kind=${kind} />` : null}
      </article>`;
    })}
  </section>`;
}

// ---- call a method ----

interface Outcome {
  reply?: unknown;
  error?: unknown;
  ms?: number;
  messages: unknown[];
  state: "idle" | "connecting" | "running" | "done";
}

/** A stream frame that is the server's error (`{"error": {id, code, detail, status}}`). */
function streamError(v: unknown): unknown {
  if (v && typeof v === "object" && Object.keys(v).length === 1) {
    const e = (v as { error?: { code?: unknown; detail?: unknown } }).error;
    if (e && typeof e === "object" && "code" in e && "detail" in e) return e;
  }
  return undefined;
}

function CallPanel({ service, endpoint, kind }: { service: string; endpoint: EndpointRecord; kind: MethodKind }) {
  const replay = pendingReplay?.service === service && pendingReplay.endpoint === endpoint.name ? pendingReplay : undefined;
  const fields = formFields(endpoint.request);
  const [raw, setRaw] = useState(replay?.request ?? "{}");
  const [md, setMd] = useState(replay?.metadata ?? "");
  const [timeout, setTimeoutText] = useState(replay?.timeout ?? "");
  const [out, setOut] = useState<Outcome>({ messages: [], state: "idle" });
  const ws = useRef<WebSocket | undefined>(undefined);
  const id = `call-${endpoint.name.replace(/\W/g, "-")}`;

  useEffect(() => () => ws.current?.close(), []);
  useEffect(() => {
    if (!replay) return;
    pendingReplay = undefined;
    if (kind === "unary" || kind === "server_streaming") void start();
  }, []);

  const remembered = (): void => remember({ at: new Date().toISOString(), service, endpoint: endpoint.name, kind, request: raw, metadata: md, timeout });

  async function start(): Promise<void> {
    let metadata: Record<string, string>;
    let request: unknown;
    try {
      metadata = metadataLines(md);
      request = JSON.parse(raw || "{}");
    } catch (e) {
      setOut({ messages: [], state: "done", error: { detail: (e as Error).message } });
      return;
    }
    remembered();
    if (kind === "unary") {
      setOut({ messages: [], state: "running" });
      const r = await callEndpoint({ service, endpoint: endpoint.name, request, metadata, timeout: timeout || undefined });
      setOut({ messages: [], state: "done", reply: r.reply, error: r.error, ms: r.ms });
      return;
    }
    ws.current?.close();
    const started = performance.now();
    const socket = new WebSocket(streamUrl(service, endpoint.name, metadata));
    ws.current = socket;
    const messages: unknown[] = [];
    setOut({ messages, state: "connecting" });
    socket.onopen = () => {
      if (kind === "server_streaming") socket.send(JSON.stringify(request));
      setOut((o) => ({ ...o, state: o.state === "connecting" ? "running" : o.state }));
    };
    socket.onmessage = (e) => {
      const v = JSON.parse(String(e.data)) as unknown;
      const err = streamError(v);
      if (err) setOut((o) => ({ ...o, error: err }));
      else {
        messages.push(v);
        setOut((o) => ({ ...o, messages: [...messages] }));
      }
    };
    socket.onclose = (e) => {
      if (ws.current === socket) ws.current = undefined;
      setOut((o) => ({
        ...o,
        state: "done",
        ms: Math.round((performance.now() - started) * 10) / 10,
        error: o.error ?? (e.code >= 4000 ? { code: e.code - 4000, detail: e.reason } : e.code !== 1000 && e.code !== 1005 ? { detail: `stream closed (${e.code})` } : undefined),
      }));
    };
  }

  function send(): void {
    try {
      ws.current?.send(JSON.stringify(JSON.parse(raw || "{}")));
    } catch (e) {
      setOut((o) => ({ ...o, error: { detail: (e as Error).message } }));
    }
  }

  const running = out.state === "running";
  const busy = running || out.state === "connecting";
  const input = (f: FormField) => {
    const v = fieldValue(raw, f);
    const fid = `${id}-${f.key}`;
    const control =
      f.input === "bool"
        ? html`<input id=${fid} type="checkbox" checked=${v === true} onChange=${(e: Event) => setRaw(withField(raw, f, (e.target as HTMLInputElement).checked))} />`
        : f.input === "json"
          ? html`<textarea id=${fid} rows="2" value=${v} onChange=${(e: Event) => setRaw(withField(raw, f, (e.target as HTMLTextAreaElement).value))}></textarea>`
          : html`<input id=${fid} type=${f.input === "number" ? "number" : "text"} value=${v} onInput=${(e: Event) => setRaw(withField(raw, f, (e.target as HTMLInputElement).value))} />`;
    return html`<div class="field"><label for=${fid}>${f.label} <small>${f.type}</small></label>${control}</div>`;
  };

  return html`<form class="call" onSubmit=${(e: Event) => (e.preventDefault(), void start())}>
    <div class="call-grid">
      <fieldset>
        <legend>Request</legend>
        ${fields.length === 0 ? html`<p class="muted">No field description: use the JSON editor.</p>` : fields.map(input)}
      </fieldset>
      <div class="field">
        <label for=${`${id}-raw`}>Request JSON</label>
        <textarea id=${`${id}-raw`} class="code" rows="8" spellcheck="false" value=${raw} onInput=${(e: Event) => setRaw((e.target as HTMLTextAreaElement).value)}></textarea>
      </div>
    </div>
    <div class="call-grid">
      <div class="field">
        <label for=${`${id}-md`}>Metadata <small>key=value per line</small></label>
        <textarea id=${`${id}-md`} rows="2" value=${md} onInput=${(e: Event) => setMd((e.target as HTMLTextAreaElement).value)}></textarea>
      </div>
      <div class="field">
        <label for=${`${id}-timeout`}>Timeout <small>e.g. 5s</small></label>
        <input id=${`${id}-timeout`} type="text" value=${timeout} onInput=${(e: Event) => setTimeoutText((e.target as HTMLInputElement).value)} />
      </div>
    </div>
    <div class="buttons">
      ${kind === "unary"
        ? html`<button type="submit" disabled=${busy}>Send request</button>`
        : html`<button type="submit" disabled=${busy}>${kind === "server_streaming" ? "Start stream" : "Open stream"}</button>
            ${kind !== "server_streaming" ? html`<button type="button" disabled=${!running} onClick=${send}>Send message</button>
              <button type="button" disabled=${!running} onClick=${() => ws.current?.send("")}>End requests</button>` : null}
            <button type="button" disabled=${!running} onClick=${() => ws.current?.close(1000)}>Stop</button>`}
    </div>
    <div class="outcome" role="status" aria-live="polite">
      ${busy ? html`<p class="muted">${kind === "unary" ? "Calling…" : "Streaming…"}</p>` : null}
      ${out.ms !== undefined ? html`<p class="latency">${out.ms} ms</p>` : null}
      ${out.reply !== undefined ? html`<pre class="reply">${pretty(out.reply)}</pre>` : null}
      ${out.messages.length > 0 ? html`<ol class="messages">${out.messages.map((m) => html`<li><pre>${pretty(m)}</pre></li>`)}</ol>` : null}
      ${out.error !== undefined ? html`<pre class="error">${pretty(out.error)}</pre>` : null}
    </div>
  </form>`;
}

// ---- events ----

function Events() {
  const [topic, setTopic] = useState("");
  const [message, setMessage] = useState("{}");
  const [published, setPublished] = useState<string | undefined>(undefined);
  const [watchTopic, setWatchTopic] = useState("");
  const [watching, setWatching] = useState<EventSource | undefined>(undefined);
  const [watchState, setWatchState] = useState("");
  const [received, setReceived] = useState<{ topic: string; message: unknown; header: unknown }[]>([]);
  useEffect(() => () => watching?.close(), [watching]);

  async function publish(e: Event): Promise<void> {
    e.preventDefault();
    try {
      const r = await postJson<{ published: string }>("/api/publish", { topic, message: JSON.parse(message) as unknown });
      setPublished(`published to ${r.published}`);
    } catch (err) {
      setPublished(errorText(err));
    }
  }
  function watch(e: Event): void {
    e.preventDefault();
    watching?.close();
    const es = new EventSource(`/api/watch/topic?${new URLSearchParams({ topic: watchTopic, csrf: csrfToken() }).toString()}`);
    es.addEventListener("subscribed", () => setWatchState(`watching ${watchTopic}`));
    es.onerror = () => setWatchState(`not watching: the connection to the dashboard failed; retrying`);
    es.addEventListener("message", (m) => setReceived((r) => [JSON.parse((m as MessageEvent<string>).data) as (typeof r)[number], ...r].slice(0, 200)));
    setReceived([]);
    setWatching(es);
  }
  return html`<section aria-labelledby="events-h">
    <h2 id="events-h">Events</h2>
    <form class="publish" onSubmit=${publish}>
      <h3>Publish</h3>
      <div class="field"><label for="pub-topic">Topic</label><input id="pub-topic" value=${topic} onInput=${(e: Event) => setTopic((e.target as HTMLInputElement).value)} /></div>
      <div class="field"><label for="pub-message">Message JSON</label><textarea id="pub-message" class="code" rows="4" value=${message} onInput=${(e: Event) => setMessage((e.target as HTMLTextAreaElement).value)}></textarea></div>
      <button type="submit">Publish</button>
      <p role="status" class="published">${published ?? ""}</p>
    </form>
    <form class="watch" onSubmit=${watch}>
      <h3>Watch a topic</h3>
      <div class="field"><label for="watch-topic">Topic</label><input id="watch-topic" value=${watchTopic} onInput=${(e: Event) => setWatchTopic((e.target as HTMLInputElement).value)} /></div>
      <button type="submit">Watch</button>
      <button type="button" disabled=${!watching} onClick=${() => (watching?.close(), setWatching(undefined), setWatchState(""))}>Stop watching</button>
      <p role="status" class="watch-state">${watchState}</p>
      <ol class="received" aria-live="polite">${received.map((r) => html`<li><code>${r.topic}</code><pre>${pretty(r.message)}</pre></li>`)}</ol>
    </form>
  </section>`;
}

// ---- console ----

function Console() {
  const [lines, setLines] = useState<{ line: string; output: string; failed?: boolean }[]>([]);
  const [text, setText] = useState("");
  const history = useRef<string[]>(consoleLines());
  const pos = useRef(history.current.length);
  const outRef = useRef<HTMLPreElement>(null);
  useEffect(() => outRef.current?.lastElementChild?.scrollIntoView({ block: "nearest" }), [lines]);

  async function run(): Promise<void> {
    const line = text.trim();
    if (!line) return;
    rememberLine(line);
    history.current = [...history.current.filter((l) => l !== line), line];
    pos.current = history.current.length;
    setText("");
    try {
      const r = await postJson<{ output: string }>("/api/console", { line });
      setLines((l) => [...l, { line, output: r.output }]);
    } catch (e) {
      setLines((l) => [...l, { line, output: errorText(e), failed: true }]);
    }
  }
  function onKey(e: KeyboardEvent): void {
    if (e.key === "Enter") {
      e.preventDefault();
      void run();
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      const h = history.current;
      pos.current = Math.max(0, Math.min(h.length, pos.current + (e.key === "ArrowUp" ? -1 : 1)));
      setText(h[pos.current] ?? "");
    }
  }
  return html`<section aria-labelledby="console-h">
    <h2 id="console-h">Console</h2>
    <p class="muted">The <code>micro</code> commands: ${"list services · get service <name> · call <service> <endpoint> [json] · stream … · publish <topic> <json> · health <service> · help"}. ↑/↓ walk the history.</p>
    <pre class="console-output" ref=${outRef}>${lines.map((l) => html`<div class=${l.failed ? "failed" : ""}><span class="prompt">$ ${l.line}</span>${"\n"}${l.output}${"\n"}</div>`)}</pre>
    <label for="console-input" class="prompt">micro</label>
    <input id="console-input" class="code" autocomplete="off" spellcheck="false" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} onKeyDown=${onKey} />
  </section>`;
}

// ---- history ----

function History() {
  const [entries, setEntries] = useState(calls);
  return html`<section aria-labelledby="history-h">
    <h2 id="history-h">History</h2>
    <p class="muted">Calls made from this browser (kept in its local storage).</p>
    <button type="button" disabled=${entries.length === 0} onClick=${() => (forgetCalls(), setEntries([]))}>Clear history</button>
    <ol class="history">
      ${entries.map(
        (e) => html`<li>
          <span class="muted">${e.at}</span> <strong>${e.service}</strong> ${e.endpoint} <span class=${`kind ${e.kind}`}>${KIND_TEXT[e.kind] ?? e.kind}</span>
          <pre>${e.request}</pre>
          <button type="button" onClick=${() => ((pendingReplay = e), (location.hash = `#/service/${encodeURIComponent(e.service)}`))}>Replay ${e.endpoint}</button>
        </li>`,
      )}
    </ol>
  </section>`;
}

// ---- the page ----

const TABS = [
  ["services", "Services"],
  ["events", "Events"],
  ["console", "Console"],
  ["history", "History"],
] as const;

function App() {
  const route = useRoute();
  const services = useServices();
  const [ready, setReady] = useState<string | undefined>(undefined);
  useEffect(() => {
    openSession()
      .then(() => setReady("ok"))
      .catch((e: unknown) => setReady(errorText(e)));
  }, []);
  const [page, arg] = route;
  const current = page === "service" ? "services" : page;
  return html`<div>
    <header>
      <h1>micro web</h1>
      <nav aria-label="Sections">
        ${TABS.map(([key, label]) => html`<a href=${`#/${key}`} aria-current=${current === key ? "page" : undefined}>${label}</a>`)}
      </nav>
    </header>
    <main>
      ${ready !== undefined && ready !== "ok" ? html`<pre class="error" role="alert">${ready}</pre>` : null}
      ${page === "service" && arg
        ? html`<${ServiceView} key=${arg} name=${arg} />`
        : page === "events"
          ? html`<${Events} />`
          : page === "console"
            ? html`<${Console} />`
            : page === "history"
              ? html`<${History} />`
              : html`<${Services} list=${services.list} live=${services.live} />`}
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app")!);
