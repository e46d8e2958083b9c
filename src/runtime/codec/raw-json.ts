import type { MessageCodec } from "./codec.js";

/**
 * A pass-through codec for callers that hold plain JSON and no generated types (the command line, the
 * gateway). Send it with content type `application/json`: the server decodes with the endpoint's real codec.
 */
export const rawJsonCodec: MessageCodec<unknown> = {
  typeName: "json",
  encode: () => {
    throw new TypeError("rawJsonCodec carries JSON only: call with contentType application/json");
  },
  decode: () => {
    throw new TypeError("rawJsonCodec carries JSON only: the response must be application/json");
  },
  fromJSON: (json) => json,
  toJSON: (message) => message,
};
