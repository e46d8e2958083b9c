#!/usr/bin/env node
/** The `micro` command line. Everything lives in cli/; this file only hands it the arguments. */
import { hideBin } from "yargs/helpers";
import { run } from "./cli/index.js";

const code = await run(hideBin(process.argv));
// A failed command ends the process now, as it always has: nothing it left open (a registry watch, a half-open
// connection) may keep it running. A successful one ends when its work is done.
if (code !== 0) process.exit(code);
