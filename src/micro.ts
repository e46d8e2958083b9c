#!/usr/bin/env node
/** The `micro` command line. Everything lives in cli/; this file only hands it the arguments. */
import { hideBin } from "yargs/helpers";
import { run } from "./cli/index.js";

await run(hideBin(process.argv));
