/**
 * Options of the mDNS registry: which multicast group and interface it speaks on (IPv4 by default, IPv6 when
 * the group or interface is IPv6), the record TTL, and how long a first lookup listens for answers.
 */
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { MicroError } from "../../errors/index.js";
import { positiveMs, positiveNumber } from "../../internal/option-values.js";

/** The error id of the mDNS registry (`micro.registry.<impl>`): bad options, bad records, a closed registry. */
export const ID = "micro.registry.mdns";

/** mDNS's IPv4 and IPv6 groups (RFC 6762). */
export const IPV4_GROUP = "224.0.0.251";
export const IPV6_GROUP = "ff02::fb";

export interface MdnsRegistryOptions {
  /**
   * `--registry_address`: comma-separated interface and/or multicast group, in any order: an interface
   * name (`eth0`) or one of its addresses (`192.168.1.5`, `fe80::1%eth0`), and a multicast address
   * (`224.0.0.251`, `ff02::fb`). Default: every IPv4 interface on `224.0.0.251`. An IPv6 group or address
   * switches to IPv6, which needs an interface (`ff02::fb,eth0`).
   */
  address?: string;
  /** The address parts as a list (what the plugin table passes); wins over `address`. */
  addresses?: readonly string[];
  /** UDP port (default 5353, mDNS's). */
  port?: number;
  /**
   * The DNS-SD service type is `_<domain>._tcp.local` (default `micro`, as Go Micro's): registries with
   * different domains on one network do not see each other.
   */
  domain?: string;
  /**
   * Seconds a record lives in other registries' caches when it was registered without a TTL (default 60);
   * such records are announced again every third of it while registered.
   */
  ttl?: number;
  /** Milliseconds the first lookup of a registry listens for answers to its query (default 300). */
  queryWait?: number;
}

export interface ResolvedMdnsOptions {
  type: "udp4" | "udp6";
  group: string;
  /** The interface address given to multicast-dns (`undefined`: every IPv4 interface). */
  interface?: string;
  port: number;
  domain: string;
  /** `_<domain>._tcp.local`. */
  serviceType: string;
  ttl: number;
  queryWait: number;
}

const isMulticast = (ip: string): boolean =>
  isIP(ip) === 4 ? Number(ip.split(".")[0]) >= 224 && Number(ip.split(".")[0]) <= 239 : isIP(ip.split("%")[0]!) === 6 && /^ff/i.test(ip);

/** The address of interface `name` of the family, as multicast-dns wants it (IPv6: `::%name`). */
function interfaceAddress(name: string, family: "udp4" | "udp6"): string | undefined {
  const list = networkInterfaces()[name];
  if (!list) return undefined;
  if (family === "udp6") return `::%${name}`;
  return list.find((a) => a.family === "IPv4")?.address;
}

/** @throws MicroError (400, {@link ID}) for an address part that is neither an interface nor a multicast group, or a bad number. */
export function resolveOptions(options: MdnsRegistryOptions = {}): ResolvedMdnsOptions {
  if (typeof options !== "object" || options === null) throw MicroError.badRequest(ID, "mdnsRegistry options must be an object");
  const parts = (options.addresses && options.addresses.length > 0 ? [...options.addresses] : (options.address ?? "").split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "");
  let group: string | undefined;
  let iface: string | undefined;
  for (const part of parts) {
    const ip = part.replace(/^\[(.*)\]$/, "$1");
    if (isMulticast(ip)) {
      if (group !== undefined) throw MicroError.badRequest(ID, `two multicast groups in the mDNS address ("${group}", "${ip}"): give one`);
      group = ip;
    } else {
      if (iface !== undefined) throw MicroError.badRequest(ID, `two interfaces in the mDNS address ("${iface}", "${part}"): give one`);
      iface = ip;
    }
  }
  const ipv6 = (group !== undefined && isIP(group) === 6) || (iface !== undefined && isIP(iface.split("%")[0]!) === 6);
  const type = ipv6 ? "udp6" : "udp4";
  group ??= ipv6 ? IPV6_GROUP : IPV4_GROUP;
  if ((type === "udp6") !== (isIP(group) === 6)) throw MicroError.badRequest(ID, `the mDNS group "${group}" and interface "${iface}" are of different IP versions`);
  let resolvedInterface: string | undefined;
  if (iface !== undefined) {
    const [address, zone] = iface.split("%");
    const family = isIP(address!);
    if (family === 4) resolvedInterface = iface;
    else if (family === 6) {
      // multicast-dns takes an IPv6 interface as `::%<zone>`.
      if (!zone) throw MicroError.badRequest(ID, `the IPv6 interface address "${iface}" needs its zone (e.g. fe80::1%eth0), or give the interface name`);
      resolvedInterface = `::%${zone}`;
    } else {
      resolvedInterface = interfaceAddress(iface, type);
      if (resolvedInterface === undefined) {
        throw MicroError.badRequest(ID, `"${iface}" in the mDNS address is neither a multicast group nor an interface of this machine (${Object.keys(networkInterfaces()).join(", ")}) with an ${type === "udp6" ? "IPv6" : "IPv4"} address`);
      }
    }
  }
  if (type === "udp6" && resolvedInterface === undefined) throw MicroError.badRequest(ID, `IPv6 mDNS ("${group}") needs an interface: add its name to the address, e.g. "${group},eth0"`);

  const domain = options.domain ?? "micro";
  if (typeof domain !== "string" || !/^[A-Za-z0-9-]{1,40}$/.test(domain)) throw MicroError.badRequest(ID, `invalid mDNS domain "${String(domain)}": letters, digits and dashes, 1 to 40 of them`);
  const port = positiveNumber(options.port, 5353, ID, "mDNS registry", "port", { max: 65535 });
  if (!Number.isInteger(port)) throw MicroError.badRequest(ID, `mDNS registry option port must be a whole number, got ${port}`);
  return {
    type,
    group,
    ...(resolvedInterface !== undefined ? { interface: resolvedInterface } : {}),
    port,
    domain,
    serviceType: `_${domain}._tcp.local`,
    ttl: positiveNumber(options.ttl, 60, ID, "mDNS registry", "ttl", { unit: "seconds", max: 86400 }),
    queryWait: positiveMs(options.queryWait, 300, ID, "mDNS registry", "queryWait"),
  };
}
