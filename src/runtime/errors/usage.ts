/**
 * An error in how something was invoked (a bad argument, name or flag value), as opposed to a failure while
 * doing the work. The `micro` command line exits with code 2 for it, and 1 for every other failure; the
 * scaffolder raises it for a bad project name.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
