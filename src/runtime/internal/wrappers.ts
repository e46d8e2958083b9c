/**
 * Wrapper (onion) composition — the one home of it, for server handlers, subscribers, client calls and
 * client attempts alike (as Connect-ES's `applyInterceptors` serves both sides). Imports nothing, so
 * client/ and server/ can both use it.
 */

/**
 * `inner` inside `wrappers`, onion order: the first wrapper is the outermost, so it runs first on the way in
 * and last on the way out. With no wrappers it returns `inner` itself (no extra call on the hot path).
 */
export function applyWrappers<F>(wrappers: readonly ((next: F) => F)[], inner: F): F {
  let fn = inner;
  for (let i = wrappers.length - 1; i >= 0; i--) fn = wrappers[i]!(fn);
  return fn;
}
