/**
 * Every `micro` subcommand but `micro cli` (the prompt runs these, so cli/index.ts builds it from
 * interactive/command.ts). Each file in this folder exports a yargs CommandModule; add a command with one
 * line here, `export { <its exported module> as <name> } from "./<file>.js";`. Help lists them in
 * alphabetical order. Keep each command file cheap to import: load its implementation inside the handler
 * with `await import(...)` so that `micro --help` stays fast. A command's argument type lives with its
 * implementation in lib/ and is imported as a type only: the arrows run commands → lib, never back.
 */
export { newCommand as new } from "./new.js";
export { apiCommand as api } from "./api.js";
export { botCommand as bot } from "./bot.js";
export { callCommand as call } from "./call.js";
export { getCommand as get } from "./get.js";
export { healthCommand as health } from "./health.js";
export { listCommand as list } from "./list.js";
export { publishCommand as publish } from "./publish.js";
export { streamCommand as stream } from "./stream.js";
export { sidecarCommand as sidecar } from "./sidecar.js";
export { webCommand as web } from "./web.js";
