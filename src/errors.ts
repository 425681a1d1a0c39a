// The one error family. Core code throws these; only src/cli/main.ts turns them into a
// message line, a hint and an exit code.

export const EXIT_CODES = {
  INVALID_INPUT: 2,
  CONFIG_INVALID: 3,
  FILE_EXISTS: 4,
  IO_FAILED: 5,
  ENGINE_UNREACHABLE: 10,
  IMAGE_NOT_FOUND: 11,
  BUILD_FAILED: 12,
  PLATFORM_MISMATCH: 13,
  CONTAINER_FAILED: 14,
  FUNCTION_FAILED: 15,
  /** The engine answered a call with an HTTP error (outside builds, pushes and containers, which have their own codes). */
  ENGINE_REFUSED: 16,
  /** `doctor` found something that stops a command. */
  CHECK_FAILED: 17,
  AWS_FAILED: 20,
  LAYER_NOT_FOUND: 21,
  DOWNLOAD_FAILED: 22,
  CHECKSUM_MISMATCH: 23,
  UNSAFE_ARCHIVE: 24,
  INCOMPATIBLE_LAYER: 25,
  PUSH_FAILED: 30,
  MANIFEST_REJECTED: 31,
  REGISTRY_AUTH_FAILED: 32,
  REPOSITORY_NOT_FOUND: 33,
  TAG_EXISTS: 34,
  STANDIN_IMAGE: 35,
  DEPLOY_FAILED: 36,
  /** Ctrl-C (SIGINT) or SIGTERM stopped the command after it cleaned up; 128 + SIGINT, as shells report it. */
  INTERRUPTED: 130,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

/** Exit code for errors that are not ours: a bug. */
export const EXIT_INTERNAL = 1;

export class LambdaImageError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  /** Extra lines shown after the message (e.g. the failing build step's output). */
  readonly details?: string[];

  constructor(code: ErrorCode, message: string, opts: { hint?: string; details?: string[]; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'LambdaImageError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isLambdaImageError(err: unknown): err is LambdaImageError {
  return err instanceof LambdaImageError;
}

/**
 * A command's failure with a cleanup failure after it (containers the engine could not remove):
 * the first failure stays the message, the cleanup's becomes a detail line and its hint joins.
 */
export function withCleanupFailure(failure: unknown, cleanup: unknown): unknown {
  if (failure === undefined) return cleanup;
  if (!(failure instanceof LambdaImageError) || !(cleanup instanceof LambdaImageError)) return failure;
  return new LambdaImageError(failure.code, failure.message, {
    details: [...(failure.details ?? []), cleanup.message],
    hint: [failure.hint, cleanup.hint].filter(Boolean).join('; '),
    cause: failure.cause,
  });
}
