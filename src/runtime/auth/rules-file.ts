/**
 * Auth rules from a file, for the gateway's `--auth_rules`: JSON (`.json`) or YAML (`.yaml`/`.yml`, the
 * `yaml` package loaded only then), either a list of rules or `{ rules: [...] }`.
 */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { MicroError } from "../errors/index.js";
import { AUTH_ERROR_ID } from "./options.js";
import { checkRules, type Rule } from "./rules.js";

/** Read and check a rules file. @throws MicroError (400) naming the file and what is wrong with it. */
export async function loadAuthRules(path: string): Promise<readonly Rule[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw MicroError.badRequest(AUTH_ERROR_ID, `cannot read auth rules file ${path}: ${(error as Error).message}`);
  }
  const ext = extname(path).toLowerCase();
  let value: unknown;
  try {
    if (ext === ".yaml" || ext === ".yml") value = (await import("yaml")).parse(text);
    else if (ext === ".json") value = JSON.parse(text);
    else throw new Error(`unknown extension "${ext}": use .json, .yaml or .yml`);
  } catch (error) {
    throw MicroError.badRequest(AUTH_ERROR_ID, `auth rules file ${path}: ${(error as Error).message}`);
  }
  const rules = value !== null && typeof value === "object" && !Array.isArray(value) && "rules" in value ? (value as { rules: unknown }).rules : value;
  try {
    return checkRules(rules as readonly unknown[]);
  } catch (error) {
    throw MicroError.badRequest(AUTH_ERROR_ID, `${path}: ${(error as MicroError).detail ?? String(error)}`);
  }
}
