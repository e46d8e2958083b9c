/**
 * The built-in `Debug.Health` endpoint every server answers (as Go Micro's debug handler): a request with
 * no fields, a response `{ status: "ok" }`. The codec is written by hand so the runtime needs no generated code.
 */
import type { MessageCodec } from "../codec/index.js";
import type { MethodDefinition } from "../definition/index.js";

export const HEALTH_ENDPOINT = "Debug.Health";

export interface HealthResponse {
  status: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `message HealthRequest {}`: nothing to encode; any bytes are accepted. */
const healthRequest: MessageCodec<Record<string, never>> = {
  typeName: "micro.debug.HealthRequest",
  encode: () => new Uint8Array(0),
  decode: () => ({}),
  fromJSON: () => ({}),
  toJSON: () => ({}),
  fields: [],
};

/** `message HealthResponse { string status = 1; }` in protobuf's wire format. */
const healthResponse: MessageCodec<HealthResponse> = {
  typeName: "micro.debug.HealthResponse",
  encode: (m) => {
    const text = encoder.encode(m.status);
    if (text.length > 127) throw new RangeError("health status longer than 127 bytes");
    const out = new Uint8Array(2 + text.length);
    out[0] = 0x0a; // field 1, length-delimited
    out[1] = text.length;
    out.set(text, 2);
    return out;
  },
  decode: (bytes) => {
    let status = "";
    for (let i = 0; i < bytes.length; ) {
      const tag = bytes[i++]!;
      if ((tag & 7) !== 2) break; // only length-delimited fields are expected
      let len = 0;
      for (let shift = 0; i < bytes.length; shift += 7) {
        const b = bytes[i++]!;
        len |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
      if (tag >> 3 === 1) status = decoder.decode(bytes.subarray(i, i + len));
      i += len;
    }
    return { status };
  },
  fromJSON: (json) => ({ status: String((json as { status?: unknown } | null)?.status ?? "") }),
  toJSON: (m) => ({ status: m.status }),
  fields: [{ name: "status", type: "string" }],
};

/** The method definition of `Debug.Health` (clients can call it with this). */
export const healthMethod: MethodDefinition<Record<string, never>, HealthResponse> = {
  name: "Health",
  kind: "unary",
  input: healthRequest,
  output: healthResponse,
};
