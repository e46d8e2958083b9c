/**
 * Real etcd, NATS and RabbitMQ servers for tests: started on loopback on free ports with temporary data directories,
 * awaited by probing their health endpoints (never by sleeping), stopped (or killed) afterwards.
 * A missing binary is an error that says what to install — these tests never skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { get as httpsGet } from "node:https";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

// Runtime logs stay quiet in these tests unless asked for. Test files import this module before the runtime,
// whose modules create their loggers on import.
process.env.MICRO_LOG_LEVEL ??= "silent";

/** A server process the test controls. `restart()` keeps the port and the data directory. */
export interface TestServer {
  /** Client address: `http://127.0.0.1:P` for etcd, `nats://127.0.0.1:P` for NATS. */
  readonly address: string;
  readonly port: number;
  readonly dataDir: string;
  /** True while the process runs. */
  readonly running: boolean;
  /** SIGTERM (or `signal`) and wait for exit (SIGKILL after 5 s, or `killAfter` ms). */
  stop(signal?: NodeJS.Signals, killAfter?: number): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Start again on the same port with the same data directory, and wait until ready. */
  start(): Promise<void>;
  /** Stop and remove the data directory. Safe to call twice. */
  dispose(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the usual race is accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Absolute path of `name` on PATH or in the usual system directories, or a failure naming the package. */
export function findBinary(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    `${name} is not installed, and these tests need a real ${name}. Install it: ` +
      `\`sudo apt-get install ${debianPackage}\` (Debian/Ubuntu; .ci/run does this), or put a ${name} binary on PATH.`,
  );
}

interface ProcessSpec {
  binary: string;
  args: string[];
  /** Resolves once the server answers; rejects never (retried until the deadline). */
  probe: () => Promise<boolean>;
  what: string;
  /** Extra environment of the process (added to this process's). */
  env?: Record<string, string>;
  /** How long a start may take (default 30 s). */
  readyTimeout?: number;
}

const READY_TIMEOUT_MS = 30_000;

class ManagedServer implements TestServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = "";

  constructor(
    readonly address: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly spec: ProcessSpec,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.output = "";
    const child = spawn(this.spec.binary, this.spec.args, { stdio: ["ignore", "pipe", "pipe"], ...(this.spec.env ? { env: { ...process.env, ...this.spec.env } } : {}) });
    this.child = child;
    const keep = (chunk: Buffer) => {
      // Keep the tail only: enough to explain a failed start.
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) => child.once("exit", (code) => ((exitCode = code), resolve())));
    child.once("error", (error) => {
      this.output += `\nspawn error: ${error.message}`;
    });
    const readyTimeout = this.spec.readyTimeout ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + readyTimeout;
    while (Date.now() < deadline) {
      if (exitCode !== undefined || child.exitCode !== null) {
        throw new Error(`${this.spec.what} exited during start (code ${child.exitCode}):\n${this.output}`);
      }
      if (await this.spec.probe()) return;
      // Wait for either the next probe slot or the process's exit, whichever comes first.
      await Promise.race([new Promise((r) => setTimeout(r, 50)), this.exited]);
    }
    await this.kill();
    throw new Error(`${this.spec.what} did not become ready within ${readyTimeout} ms:\n${this.output}`);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", killAfter = 5000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfter);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill("SIGKILL");
    await this.exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** One HTTP GET against loopback with a short timeout; true when the body matches. */
async function httpProbe(url: string, accept: (status: number, body: string) => boolean): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return accept(response.status, await response.text());
  } catch {
    return false;
  }
}

/** TLS material for an etcd that requires client certificates (PEM file paths). */
export interface EtcdTls {
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate signed by `ca`, used by the readiness probe. */
  clientCert: string;
  clientKey: string;
}

/** One HTTPS GET with client certificate and CA; true when the answer matches. */
function httpsProbe(url: string, tls: EtcdTls, accept: (status: number, body: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpsGet(
      url,
      { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey), timeout: 1000 },
      (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve(accept(response.statusCode ?? 0, body)));
        response.on("error", () => resolve(false));
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

/** Start a single-member etcd on loopback with a fresh data directory (https with client certificates when `tls`). */
export async function startEtcd(options: { tls?: EtcdTls } = {}): Promise<TestServer> {
  const binary = findBinary("etcd", "etcd-server");
  const dataDir = await mkdtemp(join(tmpdir(), "micro-etcd-"));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const tls = options.tls;
  const client = `${tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    "--name", "default",
    "--data-dir", dataDir,
    "--listen-client-urls", client,
    "--advertise-client-urls", client,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", `default=${peer}`,
    "--log-level", "error",
    "--logger", "zap",
    ...(tls ? ["--cert-file", tls.serverCert, "--key-file", tls.serverKey, "--client-cert-auth", "--trusted-ca-file", tls.ca] : []),
  ];
  const server = new ManagedServer(client, clientPort, dataDir, {
    binary,
    args,
    what: "etcd",
    probe: tls
      ? () => httpsProbe(`${client}/health`, tls, (status, body) => status === 200 && body.includes('"health":"true"'))
      : () => httpProbe(`${client}/health`, (status, body) => status === 200 && body.includes('"health":"true"')),
  });
  return started(server);
}

/** Start `server`; if it does not come up, remove its data directory before failing. */
async function started(server: ManagedServer): Promise<TestServer> {
  try {
    await server.start();
  } catch (error) {
    await server.dispose();
    throw error;
  }
  return server;
}

/**
 * Whether `binary` (a nats-server) accepts `jetstream { sync_interval: always }`, JetStream's fsync after
 * every message: tested with `-t` on a scratch configuration. Debian's 2.9.10 refuses it (`unknown field
 * "sync_interval"`). Remembered per binary.
 */
const syncAlwaysSupport = new Map<string, boolean>();
export function natsSupportsSyncAlways(binary = findBinary("nats-server", "nats-server")): boolean {
  let known = syncAlwaysSupport.get(binary);
  if (known === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "micro-nats-probe-"));
    try {
      const conf = join(dir, "probe.conf");
      writeFileSync(conf, `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))}, sync_interval: always }\n`);
      known = spawnSync(binary, ["-c", conf, "-t"], { stdio: "ignore", timeout: 10_000 }).status === 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    syncAlwaysSupport.set(binary, known);
  }
  return known;
}

/** A NATS {@link TestServer}; `syncAlways` tells whether JetStream fsyncs every message (`sync_interval: always`). */
export interface NatsTestServer extends TestServer {
  readonly syncAlways: boolean;
}

/**
 * Start nats-server on loopback, JetStream on (store in a fresh directory) unless `jetstream: false`; `args`
 * are added (e.g. auth). JetStream is configured the way README's "Going to production" asks for no loss of
 * acknowledged messages: `sync_interval: always` (a configuration file in the data directory) when this
 * nats-server knows the setting; older servers (Debian's 2.9.10) run with their defaults, and `syncAlways`
 * says which.
 */
export async function startNats(options: { args?: string[]; jetstream?: boolean; lameDuck?: { duration: string; gracePeriod: string } } = {}): Promise<NatsTestServer> {
  const binary = findBinary("nats-server", "nats-server");
  const dataDir = await mkdtemp(join(tmpdir(), "micro-nats-"));
  const port = await freePort();
  const monitorPort = await freePort();
  const syncAlways = options.jetstream !== false && natsSupportsSyncAlways(binary);
  const conf: string[] = [];
  if (options.jetstream !== false) conf.push(`jetstream { store_dir: ${JSON.stringify(join(dataDir, "jetstream"))}${syncAlways ? ", sync_interval: always" : ""} }`);
  if (options.lameDuck) conf.push(`lame_duck_duration: ${JSON.stringify(options.lameDuck.duration)}`, `lame_duck_grace_period: ${JSON.stringify(options.lameDuck.gracePeriod)}`);
  let jetstream: string[] = [];
  if (conf.length > 0) {
    writeFileSync(join(dataDir, "nats.conf"), conf.join("\n") + "\n");
    jetstream = ["-c", join(dataDir, "nats.conf")];
  }
  const args = ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort), ...jetstream, ...(options.args ?? [])];
  const server = new ManagedServer(`nats://127.0.0.1:${port}`, port, dataDir, {
    binary,
    args,
    what: "nats-server",
    // /healthz answers 200 once the server, including JetStream, is ready.
    probe: () => httpProbe(`http://127.0.0.1:${monitorPort}/healthz`, (status) => status === 200),
  });
  return Object.assign(await started(server), { syncAlways });
}

/** One TCP connect to 127.0.0.1:`port` with a short timeout; true when it is accepted. */
function tcpProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: 1000 });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * Start rabbitmq-server (Debian's package; no root needed) on 127.0.0.1 on free ports, with everything in a
 * fresh temporary directory: its own epmd on a free loopback port (started here, stopped by `dispose`; the
 * machine's epmd on 4369 is never used or started), a unique node name, data and logs, no plugins (no
 * management). Ready once an AMQP connection opens (boot takes ~5-15 s). `stop()` is SIGTERM (RabbitMQ's
 * orderly shutdown), `start()` again keeps the port and the data.
 */
export async function startRabbitMQ(): Promise<TestServer> {
  // The script itself: /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq user.
  const binary = "/usr/lib/rabbitmq/bin/rabbitmq-server";
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing, and these tests need a real RabbitMQ. Install it: \`sudo apt-get install rabbitmq-server\` (Debian/Ubuntu; .ci/run does this).`);
  }
  const epmdBinary = findBinary("epmd", "erlang-base");
  const dataDir = await mkdtemp(join(tmpdir(), "micro-rabbitmq-"));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dataDir, "rabbitmq.conf"),
    [`listeners.tcp.default = 127.0.0.1:${port}`, "disk_free_limit.absolute = 1MB", "log.console = false", "log.file.level = warning"].join("\n") + "\n",
  );
  writeFileSync(join(dataDir, "enabled_plugins"), "[].\n");
  const epmd = spawn(epmdBinary, ["-port", String(epmdPort), "-address", "127.0.0.1"], { stdio: "ignore" });
  const epmdExited = new Promise<void>((resolve) => epmd.once("exit", () => resolve()));
  const stopEpmd = async () => {
    if (epmd.exitCode === null && epmd.signalCode === null) epmd.kill("SIGKILL");
    await epmdExited;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await tcpProbe(epmdPort))) {
    if (Date.now() > deadline || epmd.exitCode !== null) {
      await stopEpmd();
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`epmd did not start on 127.0.0.1:${epmdPort}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const env = {
    HOME: dataDir, // the Erlang cookie
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_CONF_ENV_FILE: "/dev/null",
    RABBITMQ_NODENAME: `rabbit-${process.pid}-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dataDir, "rabbitmq"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dataDir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(dataDir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dataDir, "log"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dataDir, "plugins-expand"),
    RABBITMQ_PID_FILE: join(dataDir, "rabbitmq.pid"),
    // exec the Erlang VM (no wrapper shell), so the signals of stop() and kill() reach RabbitMQ itself.
    RABBITMQ_ALLOW_INPUT: "1",
    RABBITMQ_SERVER_START_ARGS: "-noinput",
  };
  const server = new ManagedServer(`amqp://127.0.0.1:${port}`, port, dataDir, {
    binary,
    args: [],
    env,
    what: "rabbitmq-server",
    // Boots in ~5-15 s alone; much slower on a loaded machine.
    readyTimeout: 120_000,
    probe: async () => {
      if (!(await tcpProbe(port))) return false;
      const amqp = await import("amqplib");
      try {
        const c = await amqp.connect(`amqp://127.0.0.1:${port}`, { timeout: 2000 });
        await c.close();
        return true;
      } catch {
        return false;
      }
    },
  });
  const dispose = server.dispose.bind(server);
  server.dispose = async () => {
    await dispose();
    await stopEpmd();
  };
  return started(server);
}
