#!/usr/bin/env node
/**
 * protoc-gen-micro: reads a CodeGeneratorRequest on stdin, writes a CodeGeneratorResponse on stdout.
 * On a bad option or bad input it prints the reason and exits 1, so protoc and buf write no files.
 */
import { deps } from "./generator/deps.js";
import { PLUGIN_NAME, PLUGIN_VERSION, runPlugin } from "./generator/plugin.js";

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "--version" || args[0] === "-v") {
    process.stdout.write(`${PLUGIN_NAME} ${PLUGIN_VERSION}\n`);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(
      `${PLUGIN_NAME} is a protoc plugin: it reads a CodeGeneratorRequest on stdin. Run it through protoc ` +
        `(protoc --plugin=protoc-gen-micro=… --micro_out=DIR x.proto) or buf generate.\n`,
    );
    return 1;
  }
  try {
    const request = deps.fromBinary(deps.CodeGeneratorRequestSchema, await readStdin());
    const response = await runPlugin(request);
    const bytes = deps.toBinary(deps.CodeGeneratorResponseSchema, response);
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
    return 0;
  } catch (err) {
    process.stderr.write(`${PLUGIN_NAME}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
