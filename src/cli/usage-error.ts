/**
 * An error in how a command was invoked (bad argument, bad flag value). `micro` exits with code 2 for it,
 * and 1 for every other failure.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
