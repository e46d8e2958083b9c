/**
 * Network namespaces for the mDNS tests, so that no multicast ever leaves through the machine's real
 * interfaces: two "machines" (namespaces `mdns-<pid>-<n>-a` and `-b`) joined by a veth pair, each with `lo`
 * up, an IPv4 address (10.<x>.<y>.1 and .2 /24), a unique-local IPv6 address (no duplicate address
 * detection, so it is usable at once) and the multicast routes on the veth only. Programs run inside with
 * `ip netns exec`. Namespaces are deleted by `dispose()` and, should the test die first, on process exit.
 * When `ip netns` is not permitted this FAILS saying why (these tests never skip).
 */
import { spawnSync } from "node:child_process";

export interface Machine {
  /** The namespace's name. */
  readonly ns: string;
  /** The veth interface inside it. */
  readonly iface: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** The argv prefix that runs a program inside the namespace: `ip netns exec <ns>`. */
  readonly exec: readonly string[];
}

export interface Network {
  readonly a: Machine;
  readonly b: Machine;
  dispose(): void;
}

const live = new Set<string>();
let counter = 0;
let hooked = false;

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || r.stdout).trim();
    throw new Error(
      `\`ip ${args.join(" ")}\` failed: ${why}. The mDNS tests need network namespaces (root or CAP_NET_ADMIN, and iproute2: ` +
        "`sudo apt-get install iproute2`) so that their multicast stays off the machine's real interfaces; they do not skip.",
    );
  }
}

function remove(ns: string): void {
  spawnSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: 10_000 });
  live.delete(ns);
}

/** Two namespaces joined by a veth pair, multicast routed between them only. */
export function twoMachines(): Network {
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const ns of [...live]) remove(ns);
    });
  }
  const n = ++counter;
  const tag = `${process.pid % 100000}${n}`;
  const subnet = `10.${(process.pid % 200) + 20}.${n % 250}`;
  const names = { a: `mdns-${tag}-a`, b: `mdns-${tag}-b` };
  const ifaces = { a: `mva${tag}`.slice(0, 15), b: `mvb${tag}`.slice(0, 15) };
  const machines: Machine[] = [];
  try {
    for (const side of ["a", "b"] as const) {
      ip(["netns", "add", names[side]]);
      live.add(names[side]);
      // No duplicate address detection: the link-local address IPv6 multicast leaves from is usable at once.
      ip(["netns", "exec", names[side], "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"]);
    }
    ip(["link", "add", ifaces.a, "netns", names.a, "type", "veth", "peer", "name", ifaces.b, "netns", names.b]);
    for (const [side, host] of [["a", 1], ["b", 2]] as const) {
      const ns = names[side];
      const iface = ifaces[side];
      const ipv4 = `${subnet}.${host}`;
      const ipv6 = `fd00:${(process.pid % 65000).toString(16)}:${n.toString(16)}::${host}`;
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "addr", "add", `${ipv4}/24`, "dev", iface]);
      ip(["-n", ns, "-6", "addr", "add", `${ipv6}/64`, "dev", iface, "nodad"]);
      ip(["-n", ns, "link", "set", iface, "up"]);
      // Multicast leaves by the veth, which ends in the other namespace: nowhere else to go.
      ip(["-n", ns, "route", "add", "224.0.0.0/4", "dev", iface]);
      machines.push({ ns, iface, ipv4, ipv6, exec: ["ip", "netns", "exec", ns] });
    }
  } catch (error) {
    for (const ns of Object.values(names)) remove(ns);
    throw error;
  }
  return {
    a: machines[0]!,
    b: machines[1]!,
    dispose() {
      for (const ns of Object.values(names)) remove(ns);
    },
  };
}
