// What each kind of value that can reach a generated Dockerfile may look like (handler names,
// paths in the project, Go module paths, emulator URLs). Pure. A Dockerfile instruction ends at
// a newline, so a value with a control character could add instructions: none is accepted.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u0080-\u009f\u2028\u2029]/;

/** The first control character of a value, described, or undefined. */
export function controlCharacterProblem(value: string): string | undefined {
  const m = CONTROL.exec(value);
  if (!m) return undefined;
  const code = m[0].codePointAt(0)!;
  const name =
    code === 10
      ? 'a newline'
      : code === 13
        ? 'a carriage return'
        : code === 9
          ? 'a tab'
          : `control character U+${code.toString(16).padStart(4, '0')}`;
  return `it contains ${name}`;
}

/** Lambda's handler field: 1 to 128 characters, no white space (API pattern [^\s]+), no quotes or backslashes. */
export function handlerProblem(handler: string): string | undefined {
  if (handler === '') return 'it is empty';
  const control = controlCharacterProblem(handler);
  if (control) return control;
  if (handler.length > 128) return 'it is longer than 128 characters';
  if (/\s/.test(handler)) return 'it contains white space';
  if (/["\\]/.test(handler)) return 'it contains a quote or a backslash';
  return undefined;
}

/**
 * A path inside the project as Dockerfile COPY lines name it: relative, no "..", made of
 * letters, digits and . _ - + @ / (no spaces, quotes, $ or wildcards, which COPY would interpret).
 */
export function projectPathProblem(p: string): string | undefined {
  if (p === '') return 'it is empty';
  const control = controlCharacterProblem(p);
  if (control) return control;
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'it is absolute; give a path inside the project';
  if (p.split(/[\\/]/).includes('..')) return 'it climbs out with ".."';
  if (!/^[A-Za-z0-9._+@/-]+$/.test(p))
    return 'only letters, digits and . _ - + @ / are allowed (no spaces, quotes, $ or wildcards)';
  return undefined;
}

/** A Go module path (go.mod "module" line): slash-separated elements of letters, digits and - . _ ~ +. */
export function goModulePathProblem(p: string): string | undefined {
  const control = controlCharacterProblem(p);
  if (control) return control;
  if (!/^[A-Za-z0-9._~+-]+(?:\/[A-Za-z0-9._~+-]+)*$/.test(p))
    return 'a module path is slash-separated elements of letters, digits and - . _ ~ +';
  if (p.split('/').some((e) => e === '.' || e === '..')) return 'a module path has no "." or ".." elements';
  return undefined;
}

/** An http(s) URL the Dockerfile may ADD: parsed by WHATWG rules, no white space, quotes or control characters. */
export function downloadUrlProblem(u: string): string | undefined {
  const control = controlCharacterProblem(u);
  if (control) return control;
  if (/[\s"'\\]/.test(u)) return 'it contains white space, a quote or a backslash';
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are fetched';
  return undefined;
}

/**
 * An emulator source as `rieFrom` and `--rie-from` take it: a URL when it starts with a scheme
 * and "://" (any case, so "HTTPS://…" is a URL), else a file path.
 */
export function emulatorSource(value: string): { kind: 'url'; url: string } | { kind: 'path'; path: string } {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? { kind: 'url', url: value } : { kind: 'path', path: value };
}

/** What is wrong with an emulator source: a URL by downloadUrlProblem, a path has one line. */
export function emulatorSourceProblem(value: string): string | undefined {
  if (value === '') return 'it is empty';
  const source = emulatorSource(value);
  return source.kind === 'url' ? downloadUrlProblem(source.url) : controlCharacterProblem(source.path);
}

/** A whole-number setting Lambda bounds (timeout, memory, ephemeral storage): one rule for the config key and its flag. */
export interface WholeNumberRule {
  min: number;
  max: number;
  unit: string;
}

export const TIMEOUT_RULE: WholeNumberRule = { min: 1, max: 900, unit: 'seconds' };
export const MEMORY_RULE: WholeNumberRule = { min: 128, max: 10240, unit: 'MB' };
export const EPHEMERAL_STORAGE_RULE: WholeNumberRule = { min: 512, max: 10240, unit: 'MB' };
export const PORT_RULE: WholeNumberRule = { min: 0, max: 65535, unit: '' };

/** The rule in words: "a whole number from 1 to 900 seconds". */
export function describeWholeNumber(rule: WholeNumberRule): string {
  return `a whole number from ${rule.min} to ${rule.max}${rule.unit ? ` ${rule.unit}` : ''}`;
}

export function wholeNumberProblem(n: number, rule: WholeNumberRule): string | undefined {
  return Number.isSafeInteger(n) && n >= rule.min && n <= rule.max ? undefined : `must be ${describeWholeNumber(rule)}`;
}

/** A flag's text as that number: digits only (no "1.5", "0x10", "1e3", " 4"), then the same rule as the config's. */
export function wholeNumberTextProblem(text: string, rule: WholeNumberRule): string | undefined {
  if (!/^\d{1,15}$/.test(text)) return `must be ${describeWholeNumber(rule)}`;
  return wholeNumberProblem(Number(text), rule);
}

const FUNCTION_NAME = /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}$/;

/** A Lambda function name, or a function ARN (the forms every command that names a function takes). */
export function functionNameProblem(name: string): string | undefined {
  return FUNCTION_NAME.test(name)
    ? undefined
    : 'must be a function name (1 to 64 letters, digits, - and _) or a function ARN';
}

/** An IAM role ARN, as Lambda's CreateFunction takes it. */
export function roleArnProblem(arn: string): string | undefined {
  return /^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)
    ? undefined
    : 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)';
}

/** An AWS region name such as eu-west-1 or us-gov-west-1. */
export function regionProblem(region: string): string | undefined {
  return /^[a-z]{2}(?:-[a-z]+)+-\d+$/.test(region) ? undefined : 'must be an AWS region such as eu-west-1';
}

/**
 * Lambda's reserved environment variables: set by Lambda itself, refused in a function's
 * configuration (AWS docs, "Defined runtime environment variables"). Locally they are the
 * emulator's own: letting a user's value win would point the runtime somewhere else.
 */
export const RESERVED_ENV_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

/** Why a variable cannot be set in a function's environment, or undefined when it can. */
export function reservedEnvKeyProblem(key: string): string | undefined {
  if (!RESERVED_ENV_KEYS.has(key)) return undefined;
  return `${key} is reserved by Lambda, which sets it itself`;
}

/**
 * Why a key cannot name a variable in a function's environment (Lambda's rule: a letter, then
 * letters, digits and _), or undefined when it can. Keys that are special to JavaScript objects
 * (__proto__ is refused by the rule; constructor, prototype are valid names) are judged like any other.
 */
export function envKeyProblem(key: string): string | undefined {
  const reserved = reservedEnvKeyProblem(key);
  if (reserved) return reserved; // _HANDLER and _X_AMZN_TRACE_ID are Lambda's, though not names a user may pick
  if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(key))
    return `${JSON.stringify(key)} is not an environment variable name (a letter, then letters, digits and _)`;
  return undefined;
}

/** Sets a key as the object's own property, __proto__ included (plain assignment would change the prototype). */
export function setOwn(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
