/**
 * The Command service's generated code (src/bot/command/gen), made from proto/micro/bot/v1/command.proto by
 * protoc with ts-proto and protoc-gen-micro. `npm run generate:bot` rewrites it; a test checks it is current.
 */
import { join } from "node:path";
import { ROOT, pluginPath, run, type Run } from "../generator/support.js";

export const COMMAND_GEN = join(ROOT, "src/bot/command/gen");

/** Generate the Command service's code into `out`. */
export function generateCommandCode(out: string): Promise<Run> {
  const bin = join(ROOT, "node_modules/.bin");
  return run(join(bin, "protoc"), [
    "-I",
    join(ROOT, "proto"),
    `--plugin=protoc-gen-micro=${pluginPath()}`,
    `--micro_out=${out}`,
    // Files inside src/ import the runtime through src/bot/command/runtime.ts, not the package's root.
    "--micro_opt=import_extension=js,runtime_import=../runtime.js",
    `--plugin=protoc-gen-ts_proto=${join(bin, "protoc-gen-ts_proto")}`,
    `--ts_proto_out=${out}`,
    "--ts_proto_opt=outputServices=none,importSuffix=.js,esModuleInterop=true",
    "micro/bot/v1/command.proto",
  ]);
}
