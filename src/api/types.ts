/**
 * TypeScript forms of `proto/micro/api/v1/api.proto`: what the gateway sends to a service behind
 * `micro api --handler api`, and what that service answers. The JSON forms are the canonical proto3 JSON
 * (lowerCamelCase: `statusCode`), so a service may decode them with its own generated codec.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { MessageCodec } from "../runtime/codec/index.js";

/** The values of one header, query or form key (`micro.api.v1.Pair`). */
export interface Pair {
  key: string;
  values: string[];
}

/** An HTTP request as the gateway received it (`micro.api.v1.Request`). */
export interface ApiRequest {
  /** HTTP method, e.g. `GET`. */
  method: string;
  /** Request path, e.g. `/greeter/hello`. */
  path: string;
  /** Request headers, keyed by lower-case name. */
  header: Record<string, Pair>;
  /** Query parameters. */
  get: Record<string, Pair>;
  /** Form fields of an `application/x-www-form-urlencoded` body. */
  post: Record<string, Pair>;
  /** Raw body as text. */
  body: string;
  /** Full URL as received. */
  url: string;
}

/** What the gateway writes back (`micro.api.v1.Response`). */
export interface ApiResponse {
  /** HTTP status code; 0 means 200. */
  statusCode: number;
  /** Response headers. */
  header: Record<string, Pair>;
  /** Body as text. */
  body: string;
}

function pairFromJSON(key: string, value: unknown): Pair {
  const v = (value ?? {}) as { key?: unknown; values?: unknown };
  const values = Array.isArray(v.values) ? v.values.map((x) => String(x)) : [];
  return { key: typeof v.key === "string" && v.key !== "" ? v.key : key, values };
}

function pairsFromJSON(value: unknown): Record<string, Pair> {
  const out: Record<string, Pair> = {};
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) out[k] = pairFromJSON(k, v);
  }
  return out;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

function writePairs(w: BinaryWriter, field: number, pairs: Record<string, Pair>): void {
  for (const [key, pair] of Object.entries(pairs)) {
    // A map entry is a nested message: key = 1, value = 2 (the Pair).
    w.tag(field, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(key);
    w.tag(2, WireType.LengthDelimited).fork();
    if (pair.key !== "") w.tag(1, WireType.LengthDelimited).string(pair.key);
    for (const v of pair.values) w.tag(2, WireType.LengthDelimited).string(v);
    w.join();
    w.join();
  }
}

function readPair(r: BinaryReader, end: number): Pair {
  const pair: Pair = { key: "", values: [] };
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 1) pair.key = r.string();
    else if (no === 2) pair.values.push(r.string());
    else r.skip(wt);
  }
  return pair;
}

function readMapEntry(r: BinaryReader, into: Record<string, Pair>): void {
  const end = r.uint32() + r.pos;
  let key = "";
  let pair: Pair = { key: "", values: [] };
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 1) key = r.string();
    else if (no === 2) pair = readPair(r, r.uint32() + r.pos);
    else r.skip(wt);
  }
  into[key] = pair;
}

/** Codec of {@link ApiRequest} (protobuf binary and proto3 JSON), for services that implement API handlers. */
export const apiRequestCodec: MessageCodec<ApiRequest> = {
  typeName: "micro.api.v1.Request",
  encode(m) {
    const w = new BinaryWriter();
    if (m.method) w.tag(1, WireType.LengthDelimited).string(m.method);
    if (m.path) w.tag(2, WireType.LengthDelimited).string(m.path);
    writePairs(w, 3, m.header ?? {});
    writePairs(w, 4, m.get ?? {});
    writePairs(w, 5, m.post ?? {});
    if (m.body) w.tag(6, WireType.LengthDelimited).string(m.body);
    if (m.url) w.tag(7, WireType.LengthDelimited).string(m.url);
    return w.finish();
  },
  decode(bytes) {
    const r = new BinaryReader(bytes);
    const m: ApiRequest = { method: "", path: "", header: {}, get: {}, post: {}, body: "", url: "" };
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      switch (no) {
        case 1: m.method = r.string(); break;
        case 2: m.path = r.string(); break;
        case 3: readMapEntry(r, m.header); break;
        case 4: readMapEntry(r, m.get); break;
        case 5: readMapEntry(r, m.post); break;
        case 6: m.body = r.string(); break;
        case 7: m.url = r.string(); break;
        default: r.skip(wt);
      }
    }
    return m;
  },
  fromJSON(json) {
    const o = (json ?? {}) as Record<string, unknown>;
    return {
      method: str(o.method),
      path: str(o.path),
      header: pairsFromJSON(o.header),
      get: pairsFromJSON(o.get),
      post: pairsFromJSON(o.post),
      body: str(o.body),
      url: str(o.url),
    };
  },
  toJSON: (m) => ({ ...m }),
  fields: [
    { name: "method", type: "string" },
    { name: "path", type: "string" },
    { name: "header", type: "map<string, micro.api.v1.Pair>" },
    { name: "get", type: "map<string, micro.api.v1.Pair>" },
    { name: "post", type: "map<string, micro.api.v1.Pair>" },
    { name: "body", type: "string" },
    { name: "url", type: "string" },
  ],
};

/** Codec of {@link ApiResponse} (protobuf binary and proto3 JSON). */
export const apiResponseCodec: MessageCodec<ApiResponse> = {
  typeName: "micro.api.v1.Response",
  encode(m) {
    const w = new BinaryWriter();
    if (m.statusCode) w.tag(1, WireType.Varint).int32(m.statusCode);
    writePairs(w, 2, m.header ?? {});
    if (m.body) w.tag(3, WireType.LengthDelimited).string(m.body);
    return w.finish();
  },
  decode(bytes) {
    const r = new BinaryReader(bytes);
    const m: ApiResponse = { statusCode: 0, header: {}, body: "" };
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1) m.statusCode = r.int32();
      else if (no === 2) readMapEntry(r, m.header);
      else if (no === 3) m.body = r.string();
      else r.skip(wt);
    }
    return m;
  },
  fromJSON(json) {
    const o = (json ?? {}) as Record<string, unknown>;
    const code = Number(o.statusCode ?? o.status_code ?? 0);
    return { statusCode: Number.isInteger(code) ? code : 0, header: pairsFromJSON(o.header), body: str(o.body) };
  },
  toJSON: (m) => ({ statusCode: m.statusCode, header: m.header, body: m.body }),
  fields: [
    { name: "status_code", type: "int32" },
    { name: "header", type: "map<string, micro.api.v1.Pair>" },
    { name: "body", type: "string" },
  ],
};
