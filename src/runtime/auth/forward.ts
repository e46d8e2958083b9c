/**
 * The caller's `authorization` while a handler runs, so a client call the handler makes onward can forward
 * it (`authClientWrapper({ forward: true })`). Kept in an AsyncLocalStorage the handler wrapper fills — only
 * once a forwarding client wrapper exists in the process, so services that never forward do not pay for it.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export const incomingAuthorization = new AsyncLocalStorage<string>();

let wanted = false;

/** A forwarding client wrapper was made: handlers keep their caller's token from now on. */
export function enableForwarding(): void {
  wanted = true;
}

/** Whether handlers keep their caller's token for forwarding. */
export function forwarding(): boolean {
  return wanted;
}
