/**
 * The caller's `authorization` while a handler runs, so a client call the handler makes onward can forward
 * it (`authClientWrapper({ forward: true })`). Kept in an AsyncLocalStorage the handler wrapper fills.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export const incomingAuthorization = new AsyncLocalStorage<string>();
