/** `npm run generate:bot`: rewrite src/bot/command/gen from proto/micro/bot/v1/command.proto (review the diff). */
import { mkdirSync, rmSync } from "node:fs";
import { COMMAND_GEN, generateCommandCode } from "./command-code.js";

rmSync(COMMAND_GEN, { recursive: true, force: true });
mkdirSync(COMMAND_GEN, { recursive: true });
const result = await generateCommandCode(COMMAND_GEN);
if (result.code !== 0) {
  process.stderr.write(`protoc failed:\n${result.stderr}`);
  process.exit(1);
}
process.stdout.write(`regenerated ${COMMAND_GEN}\n`);
