/**
 * `micro publish <topic> <message>`: a JSON message through the configured broker.
 */
import { UsageError } from "../../../runtime/errors/usage.js";
import { metadataWithToken, out, requestArgument, runCommand } from "./io.js";
import { openBackend } from "./backend.js";
import { commandIo } from "./context.js";

export interface PublishArguments {
  topic: string;
  message: string;
  metadata?: string[];
  token?: string;
  [flag: string]: unknown;
}

const TOPIC = /^[A-Za-z0-9_][A-Za-z0-9_.:*>-]*$/;

export async function publish(args: PublishArguments): Promise<void> {
  if (!TOPIC.test(args.topic)) throw new UsageError(`topic "${args.topic}" may hold letters, digits and . _ - : only`);
  const metadata = metadataWithToken(args.metadata, args.token);
  const message = await requestArgument(args.message, "message");
  const rt = await openBackend(args);
  await runCommand(async () => {
    await rt.client.publish(args.topic, message, { metadata, signal: commandIo().signal });
    out(JSON.stringify({ published: args.topic }));
  }, rt.close);
}
