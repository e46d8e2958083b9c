/**
 * Turns a registered subscriber into a broker handler: decodes the payload by its content type (the
 * subscriber's codec, or JSON), then runs the subscriber wrappers and the handler.
 */
import type { BrokerHandler, BrokerMessage } from "../broker/index.js";
import type { MessageCodec } from "../codec/index.js";
import { MicroError } from "../errors/index.js";
import type { Subscriber, SubscriberFunc, SubscriberWrapper } from "./index.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

function contentTypeOf(message: BrokerMessage): string | undefined {
  const h = message.header;
  return h["Content-Type"] ?? h["content-type"];
}

/** The message of a published payload, decoded with `codec` (or as JSON without one). */
export function decodePayload<T>(message: BrokerMessage, codec: MessageCodec<T> | undefined, topic: string): T {
  const contentType = (contentTypeOf(message) ?? (codec ? "application/protobuf" : "application/json")).toLowerCase();
  if (contentType.includes("json")) {
    let parsed: unknown;
    try {
      parsed = message.body.length === 0 ? null : JSON.parse(decoder.decode(message.body));
    } catch (cause) {
      throw MicroError.badRequest("micro.server", `message on topic ${topic} is not valid JSON: ${(cause as Error).message}`);
    }
    return codec ? codec.fromJSON(parsed) : (parsed as T);
  }
  if (codec) {
    try {
      return codec.decode(message.body);
    } catch (cause) {
      throw MicroError.badRequest("micro.server", `message on topic ${topic} is not a valid ${codec.typeName}: ${(cause as Error).message}`);
    }
  }
  // Binary payload and no codec to read it: hand over the bytes.
  return message.body as T;
}

/** The broker handler of one subscriber, inside the server's and its own wrappers (first is outermost). */
export function brokerHandlerFor<T>(subscriber: Subscriber<T>, serverWrappers: readonly SubscriberWrapper[]): BrokerHandler {
  let fn = subscriber.handler as SubscriberFunc;
  const wrappers = [...serverWrappers, ...(subscriber.options.wrappers ?? [])];
  for (let i = wrappers.length - 1; i >= 0; i--) fn = wrappers[i]!(fn);
  const codec = subscriber.options.codec;
  return async (event) => {
    const message = decodePayload(event.message, codec, event.topic);
    await fn({ topic: event.topic, message, metadata: event.message.header });
  };
}
