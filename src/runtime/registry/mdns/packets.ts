/**
 * The mDNS packets of the registry, built and read with multicast-dns (dns-packet): an announcement of a node
 * (a PTR from the service type to the node's instance and the instance's TXT record, both with the node's
 * TTL; TTL 0 is the goodbye), the browse query for the service type, and what a response teaches.
 */
import type { Answer, Question } from "dns-packet";
import type { NodeEntry } from "../records.js";
import { decodeEntry, encodeEntry, instanceName } from "./encoding.js";

/** The answers announcing `entry` for `ttl` seconds (0: goodbye). */
export function announcement(serviceType: string, entry: NodeEntry, ttl: number): Answer[] {
  const instance = instanceName(serviceType, entry.name, entry.version, entry.node.id);
  return [
    { name: serviceType, type: "PTR", ttl, data: instance },
    { name: instance, type: "TXT", ttl, data: encodeEntry(entry) },
  ];
}

/** The browse query: who has instances of `serviceType`? */
export function browseQuery(serviceType: string): Question[] {
  return [{ name: serviceType, type: "PTR" }];
}

/** Whether a query asks for our service type (browse) or for one instance under it: the names to answer with. */
export function asked(serviceType: string, questions: readonly Question[]): { all: boolean; instances: string[] } {
  let all = false;
  const instances: string[] = [];
  for (const q of questions) {
    const name = q.name.toLowerCase();
    const type: string = q.type; // dns-packet's types leave out ANY, which queries may carry
    if (name === serviceType.toLowerCase() && (type === "PTR" || type === "ANY")) all = true;
    else if (name.endsWith(`.${serviceType.toLowerCase()}`) && (type === "TXT" || type === "ANY")) instances.push(name);
  }
  return { all, instances };
}

/** One node record heard in a response: its instance, entry (without expiry) and TTL in seconds (0: goodbye). */
export interface Heard {
  instance: string;
  entry: Omit<NodeEntry, "expires">;
  ttl: number;
}

/** The node records of a response (answers and additionals) under `serviceType`; foreign or damaged records are skipped. */
export function heardRecords(serviceType: string, records: readonly Answer[]): Heard[] {
  const suffix = `.${serviceType.toLowerCase()}`;
  const heard: Heard[] = [];
  for (const record of records) {
    if (record.type !== "TXT" || !record.name.toLowerCase().endsWith(suffix)) continue;
    const entry = decodeEntry(record.data);
    if (entry) heard.push({ instance: record.name.toLowerCase(), entry, ttl: record.ttl ?? 0 });
  }
  return heard;
}
