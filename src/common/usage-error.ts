/**
 * A mistake in the command line or a config file: reported at once, naming
 * the option, and the process exits with status 2 (not retried like a
 * network fault, not confused with a runtime failure's 1).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE_EXIT_CODE = 2;
