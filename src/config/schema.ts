// lambda-image.json: its schema, defaults and validation. Pure: text in, config or errors out.
// valibot rather than zod: same kind of schema, a fifth of the start-up cost.
import * as v from 'valibot';
import { imageReferenceProblem, tagProblem } from './image-reference.js';
import { LambdaImageError } from '../errors.js';
import {
  ARCHES,
  BASES,
  CONFIG_FILE,
  GO_MODULE_MODES,
  GO_MODULE_SETTINGS,
  LAYERS_DIR,
  RIE_VERSION,
  RUNTIMES,
  INVOKE_MODES,
  TENANT_ISOLATION_MODES,
  LOG_FORMATS,
  APPLICATION_LOG_LEVELS,
  SYSTEM_LOG_LEVELS,
  URL_AUTH_TYPES,
} from './constants.js';
import {
  controlCharacterProblem,
  EPHEMERAL_STORAGE_RULE,
  emulatorSourceProblem,
  functionNameProblem,
  goModulePathProblem,
  handlerProblem,
  MEMORY_RULE,
  projectPathProblem,
  regionProblem,
  envKeyProblem,
  reservedEnvKeyProblem,
  setOwn,
  roleArnProblem,
  TIMEOUT_RULE,
  type WholeNumberRule,
  wholeNumberProblem,
} from './value-rules.js';

export { ARCHES, BASES, CONFIG_FILE, RUNTIMES };
export type { Arch, Base, Runtime } from './constants.js';

export const CONFIG_VERSION = 1;

/** Docker repository name rules (lower case, separators, optional registry host). */
const IMAGE_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** A check from value-rules.ts as a schema step: the rule broken becomes the message. */
const rule = (problemOf: (value: string) => string | undefined, what: string) =>
  v.rawCheck<string>(({ dataset, addIssue }) => {
    const problem = dataset.typed ? problemOf(dataset.value) : undefined;
    if (problem) addIssue({ message: `must be ${what} (${problem})` });
  });
/** A check whose problem is the whole message (the flag that overrides the key uses the same function). */
const same = (problemOf: (value: string) => string | undefined) =>
  v.rawCheck<string>(({ dataset, addIssue }) => {
    const problem = dataset.typed ? problemOf(dataset.value) : undefined;
    if (problem) addIssue({ message: problem });
  });
const wholeNumber = (r: WholeNumberRule) =>
  v.pipe(
    v.number('must be a number, written without quotes'),
    v.rawCheck<number>(({ dataset, addIssue }) => {
      const problem = dataset.typed ? wholeNumberProblem(dataset.value, r) : undefined;
      if (problem) addIssue({ message: problem });
    }),
  );
const relativePath = v.pipe(v.string(), rule(projectPathProblem, 'a path inside the project'));
const plainText = v.pipe(v.string(), rule(controlCharacterProblem, 'one line of text'));
const imageReference = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? imageReferenceProblem(dataset.value) : undefined;
    if (problem) addIssue({ message: `must be an image reference (${problem})` });
  }),
);
const oneOf = <T extends readonly string[]>(values: T) => v.picklist(values, `must be one of: ${values.join(', ')}`);

export const extensionSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/, 'must be a layer name (letters, digits, - and _)')),
  version: v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be 1 or more')),
  arn: v.optional(plainText),
  sha256: v.pipe(v.string(), v.regex(HEX64, 'must be 64 lower-case hex digits')),
  architectures: v.optional(v.array(oneOf(ARCHES)), []),
  // lambda-image deletes this folder on remove or replace: it must be one of its own.
  dir: v.pipe(
    v.string(),
    v.check(
      (d) => d.startsWith(`${LAYERS_DIR}/`) && /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(d.slice(LAYERS_DIR.length + 1)),
      `must be a folder directly under ${LAYERS_DIR}/ (lambda-image only manages, and deletes, its own folders)`,
    ),
  ),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  files: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

/** Where `push` and `deploy` send the image: a full repository reference, or a bare ECR repository name. */
const repositoryReference = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = imageReferenceProblem(dataset.value);
    if (problem)
      addIssue({
        message: `must be a repository such as orders or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders (${problem})`,
      });
    else if (/[:@][^/]*$/.test(dataset.value.replace(/^[^/]*\//, '')))
      addIssue({ message: 'must name a repository without a tag or digest (push chooses the tag)' });
  }),
);
const functionName = v.pipe(v.string(), same(functionNameProblem));

/** Environment variables: NAME: "value" pairs Lambda accepts (reserved names refused). */
const environmentSchema = v.pipe(
  v.custom<Record<string, string>>(
    (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
    'must be an object of NAME: "value" pairs',
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const key of Object.keys(dataset.value)) {
      const problem = envKeyProblem(key);
      if (problem)
        addIssue({ message: reservedEnvKeyProblem(key) ? `may not set ${key} (${problem})` : `key ${problem}` });
      else if (typeof Object.getOwnPropertyDescriptor(dataset.value, key)?.value !== 'string')
        addIssue({ message: `${key} must be a string` });
    }
  }),
  v.transform((env) => {
    const copy: Record<string, string> = {};
    for (const key of Object.keys(env)) setOwn(copy, key, env[key]!);
    return copy;
  }),
);

export const deploySchema = v.strictObject({
  repository: v.optional(repositoryReference),
  functionName: v.optional(functionName),
  /** The function deployed from the dev branch by `ci github`. */
  devFunctionName: v.optional(functionName),
  role: v.optional(v.pipe(v.string(), same(roleArnProblem))),
  region: v.optional(v.pipe(v.string(), same(regionProblem))),
  environment: v.optional(environmentSchema),
});

const httpMethod = v.pipe(
  v.string(),
  v.regex(/^(\*|GET|PUT|HEAD|POST|PATCH|DELETE|OPTIONS)$/, 'must be an HTTP method (GET, POST, ...) or *'),
);
const corsList = (what: string, each: v.GenericSchema<string, string>) =>
  v.pipe(v.array(each, `must be a list of ${what}`), v.maxLength(100, 'may hold at most 100 entries'));
const corsToken = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(1024, 'must be at most 1024 characters'),
  v.regex(/^[^\s\u0000-\u001f\u007f,]+$/, 'must hold no white space, commas or control characters'),
);

/**
 * Lambda's LoggingConfig, camel-cased (what `deploy` sends). As Lambda, the levels need the JSON
 * format: with Text there is no level to filter by.
 */
export const loggingSchema = v.pipe(
  v.strictObject({
    logFormat: v.optional(oneOf(LOG_FORMATS)),
    applicationLogLevel: v.optional(oneOf(APPLICATION_LOG_LEVELS)),
    systemLogLevel: v.optional(oneOf(SYSTEM_LOG_LEVELS)),
  }),
  v.check(
    (l) => l.logFormat === 'JSON' || (l.applicationLogLevel === undefined && l.systemLogLevel === undefined),
    'applicationLogLevel and systemLogLevel need "logFormat": "JSON" (Lambda filters by level only in JSON)',
  ),
);

/** A function URL's settings: `deploy --url` and `start --http-port` (Lambda's FunctionUrlConfig). */
export const urlSchema = v.strictObject({
  authType: v.optional(oneOf(URL_AUTH_TYPES)),
  /** The domain `start --http-port` names in events (host, requestContext.domainName); local only. */
  domain: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(253, 'must be at most 253 characters'),
      v.regex(
        /^(?=[^.]{1,63}(\.|$))[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i,
        'must be a domain name such as api.example.com',
      ),
    ),
  ),
  invokeMode: v.optional(oneOf(INVOKE_MODES)),
  /** The URL's Cors, camel-cased: allowOrigins, allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials. */
  cors: v.optional(
    v.strictObject({
      allowOrigins: v.optional(corsList('origins such as https://example.com or *', corsToken)),
      allowMethods: v.optional(corsList('HTTP methods', httpMethod)),
      allowHeaders: v.optional(corsList('header names', corsToken)),
      exposeHeaders: v.optional(corsList('header names', corsToken)),
      maxAge: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86400, 'must be 0 to 86400 seconds')),
      ),
      allowCredentials: v.optional(v.boolean('must be true or false')),
    }),
  ),
  /** `start --http-port`: the request header that carries the invoke's tenant id (tenant isolation). */
  tenantIdHeader: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')),
  ),
});

/** A REST API's settings `start --http-event rest-api` follows (API Gateway's RestApi). */
export const restApiSchema = v.strictObject({
  /** Media types the API treats as binary (`image/png`, `image/*`, or all with a star over a star); a new REST API has none. */
  binaryMediaTypes: v.optional(
    v.pipe(
      v.array(
        v.pipe(v.string(), v.regex(/^[\w.+*-]+\/[\w.+*-]+$/, 'must be a media type such as image/png or image/*')),
        'must be a list of media types',
      ),
      v.maxLength(100, 'may hold at most 100 entries'),
    ),
  ),
});

/**
 * A function's name in a project of several: the key under `functions`. It also names the
 * function's image (default `<name>:<tag>`), its tag in the project's repository
 * (`<name>-<tag>`) and its Lambda function, so it must suit all three: one Docker repository
 * path component (lower case letters and digits, joined by one `_`, two `__` or any number of
 * `-`) without `.` (which Lambda names cannot hold), at most 64 characters.
 */
export const FUNCTION_KEY = /^[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*$/;
export const functionKeyProblem = (name: string): string | undefined =>
  FUNCTION_KEY.test(name) && name.length <= 64
    ? undefined
    : 'a function name must be at most 64 lower case letters and digits, joined by -, _ or __ (no - or _ at either end, no ___)';

/** One function of a project of several: its main package, and the settings it overrides. */
export const functionSchema = v.strictObject({
  /** The main package's folder, relative to the module root (./cmd/orders or cmd/orders). */
  main: relativePath,
  /** The local image's name (default: the function's name); its tag is the project's tag. */
  image: v.optional(
    v.pipe(
      v.string(),
      v.regex(IMAGE_NAME, 'must be a Docker image name: lower case letters, digits, and . _ - / between them'),
    ),
  ),
  timeout: v.optional(wholeNumber(TIMEOUT_RULE)),
  memorySize: v.optional(wholeNumber(MEMORY_RULE)),
  ephemeralStorage: v.optional(wholeNumber(EPHEMERAL_STORAGE_RULE)),
  /**
   * Lambda's TenancyConfig (PER_TENANT): every invoke must name a tenant, environments are
   * never shared between tenants; set only when the function is created.
   */
  tenantIsolationMode: v.optional(oneOf(TENANT_ISOLATION_MODES)),
  /** Lambda's LoggingConfig: log format and levels (`deploy` sends the keys named). */
  logging: v.optional(loggingSchema),
  /** Added to (and winning over) the project's deploy.environment, locally and on Lambda. */
  environment: v.optional(environmentSchema),
  /** Names of the project's extensions this function's image holds (default: all of them). */
  extensions: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/, 'must be a layer name')))),
  /** Overrides the project's deploy settings (default functionName: the function's name). */
  deploy: v.optional(deploySchema),
  url: v.optional(urlSchema),
  restApi: v.optional(restApiSchema),
});

export const configSchema = v.strictObject({
  $schema: v.optional(v.string()),
  version: v.optional(v.literal(CONFIG_VERSION, `must be ${CONFIG_VERSION}`), CONFIG_VERSION),
  name: v.pipe(
    v.string('must be a string'),
    v.regex(IMAGE_NAME, 'must be a Docker image name: lower case letters, digits, and . _ - / between them'),
  ),
  tag: v.optional(v.pipe(v.string(), rule(tagProblem, 'a Docker tag')), 'latest'),
  runtime: v.optional(oneOf(RUNTIMES), 'go'),
  base: v.optional(oneOf(BASES), 'aws'),
  rie: v.optional(v.boolean('must be true or false'), false),
  arch: v.optional(oneOf(ARCHES), 'x86_64'),
  baseImage: v.optional(imageReference),
  builderImage: v.optional(imageReference),
  handler: v.optional(v.pipe(v.string(), rule(handlerProblem, 'a Lambda handler name')), 'bootstrap'),
  timeout: v.optional(wholeNumber(TIMEOUT_RULE)),
  memorySize: v.optional(wholeNumber(MEMORY_RULE)),
  /** Lambda's ephemeral storage (/tmp), MB: 512 to 10240, default 512. */
  ephemeralStorage: v.optional(wholeNumber(EPHEMERAL_STORAGE_RULE)),
  /**
   * Lambda's TenancyConfig (PER_TENANT): every invoke must name a tenant, environments are
   * never shared between tenants; set only when the function is created.
   */
  tenantIsolationMode: v.optional(oneOf(TENANT_ISOLATION_MODES)),
  /** Lambda's LoggingConfig: log format and levels (`deploy` sends the keys named). */
  logging: v.optional(loggingSchema),
  go: v.optional(
    v.strictObject({
      module: v.pipe(v.string(), rule(goModulePathProblem, 'a Go module path')),
      version: v.pipe(v.string(), v.regex(/^\d+\.\d+(\.\d+)?$/, 'must be a Go version such as 1.23 or 1.23.4')),
      main: v.optional(relativePath, '.'),
      /** Module settings passed to the Go stages as build arguments (--build-arg wins). */
      env: v.optional(
        v.strictObject(
          Object.fromEntries(GO_MODULE_SETTINGS.map((k) => [k, v.optional(plainText)])) as Record<
            (typeof GO_MODULE_SETTINGS)[number],
            v.OptionalSchema<typeof plainText, undefined>
          >,
        ),
      ),
      /** Where modules come from: auto (vendor/ if present, else downloaded in the image) or host. */
      modules: v.optional(oneOf(GO_MODULE_MODES)),
    }),
  ),
  binary: v.optional(relativePath),
  rieVersion: v.optional(
    v.pipe(v.string(), v.regex(/^v\d+\.\d+(\.\d+)?$/, 'must be an emulator release tag such as v1.30')),
    RIE_VERSION,
  ),
  rieFrom: v.optional(v.pipe(v.string(), rule(emulatorSourceProblem, 'an emulator URL or file path'))),
  extensions: v.optional(v.array(extensionSchema), []),
  deploy: v.optional(deploySchema),
  url: v.optional(urlSchema),
  restApi: v.optional(restApiSchema),
  /** Several functions in one module: name -> main package and own settings. Absent: one function. */
  functions: v.optional(
    v.record(
      v.pipe(
        v.string(),
        v.check((k) => !functionKeyProblem(k), functionKeyProblem('') ?? ''),
      ),
      functionSchema,
    ),
  ),
});

export type Config = v.InferOutput<typeof configSchema>;
export type ConfigInput = v.InferInput<typeof configSchema>;
export type ExtensionEntry = v.InferOutput<typeof extensionSchema>;
export type DeployConfig = v.InferOutput<typeof deploySchema>;
export type UrlConfig = v.InferOutput<typeof urlSchema>;
export type FunctionEntry = v.InferOutput<typeof functionSchema>;

export type ValidationResult = { config: Config; errors: [] } | { config?: undefined; errors: string[] };

/** Keys an object's prototype owns: never a function's name (they would be dropped, or reach the prototype). */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function reservedFunctionKeys(raw: unknown): string[] {
  const fns = (raw as { functions?: unknown } | null)?.functions;
  if (!fns || typeof fns !== 'object') return [];
  return Object.keys(fns)
    .filter((k) => RESERVED_KEYS.has(k))
    .map((k) => `functions.${k}: "${k}" cannot name a function (a reserved JavaScript name); choose another name`);
}

/** Checks the rules that tie fields together. */
function crossChecks(c: Config): string[] {
  const errors: string[] = [];
  if (c.runtime === 'go' && !c.go) errors.push('go: is required when runtime is "go"');
  if (c.runtime === 'provided' && !c.binary) errors.push('binary: is required when runtime is "provided"');
  const names = new Set<string>();
  const dirs = new Set<string>();
  c.extensions.forEach((e, i) => {
    if (names.has(e.name)) errors.push(`extensions.${i}.name: "${e.name}" is listed twice`);
    names.add(e.name);
    // Removing one layer deletes its folder: two layers must never share one.
    if (dirs.has(e.dir)) errors.push(`extensions.${i}.dir: "${e.dir}" is already the folder of another layer`);
    dirs.add(e.dir);
  });
  if (c.functions) {
    const entries = Object.entries(c.functions);
    if (entries.length === 0) errors.push('functions: must list at least one function (or be left out)');
    if (c.runtime !== 'go') errors.push('functions: needs runtime "go" (one module, one main package per function)');
    const images = new Map<string, string>();
    for (const [name, f] of entries) {
      const image = f.image ?? name;
      const other = images.get(image);
      if (other) errors.push(`functions.${name}.image: "${image}" is already the image of function ${other}`);
      images.set(image, name);
      for (const ext of f.extensions ?? [])
        if (!names.has(ext))
          errors.push(
            `functions.${name}.extensions: "${ext}" is not one of the project's extensions (${[...names].join(', ') || 'none'})`,
          );
    }
  }
  return errors;
}

/** Validates a parsed value. Never throws: returns the config (defaults filled in) or one message per problem. */
export function validateConfig(raw: unknown): ValidationResult {
  // The schema's records skip these keys without a word: a function so named would vanish.
  const reserved = reservedFunctionKeys(raw);
  if (reserved.length) return { errors: reserved };
  const result = v.safeParse(configSchema, raw);
  if (!result.success) return { errors: issueMessages(raw) };
  const errors = crossChecks(result.output);
  return errors.length ? { errors } : { config: result.output, errors: [] };
}

/**
 * One message per problem. A strict object names only its first unknown key: each is taken
 * out of a copy and the copy checked again (bounded), so one run names every unknown setting.
 */
function issueMessages(raw: unknown): string[] {
  const messages = new Set<string>();
  const copy = structuredClone(raw);
  let issues = v.safeParse(configSchema, copy).issues;
  for (let pass = 0; pass < 64 && issues; pass++) {
    let removed = false;
    for (const i of issues) {
      const where = i.path?.map((p) => String(p.key)).join('.') || '(top level)';
      const strict = i.kind === 'schema' && i.type === 'strict_object';
      // A strict object reports an unknown key (expected: never) and a missing one alike.
      const unknown = strict && i.expected === 'never';
      const missing = strict && !unknown && i.input === undefined;
      messages.add(`${where}: ${unknown ? 'is not a known setting' : missing ? missingMessage(where) : i.message}`);
      const last = i.path?.at(-1); // points into `copy`: its input is the object holding the key
      if (unknown && last && typeof last.input === 'object' && last.input !== null) {
        delete (last.input as Record<string, unknown>)[String(last.key)];
        removed = true;
      }
    }
    if (!removed) break;
    issues = v.safeParse(configSchema, copy).issues;
  }
  return [...messages];
}

/** A required setting that is not there: what it holds, for the settings users write by hand. */
function missingMessage(where: string): string {
  if (/^functions\.[^.]+\.main$/.test(where))
    return `is required: the folder of the function's main package, such as "./cmd/${where.split('.')[1]}"`;
  return 'is required';
}

/** Parses and validates config text. */
export function parseConfig(text: string): ValidationResult {
  let raw: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte order mark; JSON.parse would refuse it.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    return { errors: [`not valid JSON (${(err as Error).message})`] };
  }
  return validateConfig(raw);
}

/** Builds a config from code (tests, init); throws on invalid input. */
export function makeConfig(input: ConfigInput): Config {
  const result = validateConfig(input);
  if (result.errors.length) throw new LambdaImageError('CONFIG_INVALID', `invalid config: ${result.errors.join('; ')}`);
  return result.config!;
}

/** The stable JSON form written to disk (defaults made explicit, keys in schema order). */
export function serializeConfig(config: Config): string {
  return JSON.stringify(makeConfig(config), null, 2) + '\n';
}
