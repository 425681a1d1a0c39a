// A project's functions: one (the project itself, as always) or several in one Go module
// (`functions` in lambda-image.json). Pure: a config in, each function's own view out.
//
// Every command but `build` works on one function at a time through its *function config*:
// the project's config with the function's settings laid over it (image name, main package,
// memory, timeout, environment, extensions, deploy target). Code that ran one function before
// runs each function of a project unchanged. `build` also needs the whole project (one
// Dockerfile, one builder stage for every function): it reads `functions` itself.
import { LambdaImageError } from '../errors.js';
import { CONFIG_FILE, type Config, type FunctionEntry } from './schema.js';

export interface ProjectFunction {
  /** The function's name: its key under `functions`, or the project's name when it has one function. */
  name: string;
  /**
   * The function's key in the project's state and build (`functions.<name>` of
   * .lambda-image/builds.json, its own Dockerfile stage, `<name>-` tags in a shared
   * repository) when the project lists `functions`; undefined for a project without
   * `functions`, whose one function keeps the top of the file and plain tags, as always.
   * Data, not a mode: every command runs the same code over a list of these.
   */
  recordKey?: string;
  /** The project's config as this function sees it (see functionConfig). */
  config: Config;
  /** The function's own entry (multi only). */
  entry?: FunctionEntry;
}

/** True when the project lists its functions. */
export function isMultiFunction(config: Config): boolean {
  return config.functions !== undefined;
}

/** Every function of the project, in the config's order. */
export function projectFunctions(config: Config): ProjectFunction[] {
  if (!config.functions) return [{ name: config.name, config }];
  return Object.keys(config.functions).map((name) => functionView(config, name));
}

/**
 * The functions a command acts on: the named ones (each once, in the order given), or every
 * function when none is named. An unknown name is an error naming the known ones.
 */
export function selectFunctions(config: Config, names: readonly string[] | undefined): ProjectFunction[] {
  const all = projectFunctions(config);
  if (!names?.length) return all;
  const picked: ProjectFunction[] = [];
  for (const name of new Set(names)) {
    const found = all.find((f) => f.name === name);
    if (!found) throw unknownFunction(config, name);
    picked.push(found);
  }
  return picked;
}

/**
 * The one function a command runs (`invoke`): the named one, or the only one. A project of
 * several with no name given is an error that lists them.
 */
export function oneFunction(config: Config, name: string | undefined, command: string): ProjectFunction {
  if (name !== undefined) return selectFunctions(config, [name])[0]!;
  const all = projectFunctions(config);
  if (all.length === 1) return all[0]!;
  throw new LambdaImageError(
    'INVALID_INPUT',
    `this project has ${all.length} functions (${all.map((f) => f.name).join(', ')}): ${command} runs one at a time`,
    { hint: `name it with --function, for example: lambda-image ${command} --function ${all[0]!.name}` },
  );
}

function unknownFunction(config: Config, name: string): LambdaImageError {
  const known = projectFunctions(config).map((f) => f.name);
  return new LambdaImageError(
    'INVALID_INPUT',
    config.functions
      ? `no function named ${JSON.stringify(name)} in ${CONFIG_FILE} (its functions: ${known.join(', ')})`
      : `no function named ${JSON.stringify(name)}: this project has one function, ${known[0]}`,
    {
      hint: config.functions
        ? `use one of: ${known.map((k) => `--function ${k}`).join(', ')}`
        : `leave --function out, or use --function ${known[0]}`,
    },
  );
}

function functionView(config: Config, name: string): ProjectFunction {
  const entry = config.functions?.[name];
  if (!entry) throw unknownFunction(config, name);
  return { name, recordKey: name, config: functionConfig(config, name, entry), entry };
}

/**
 * The project's config as one function of several sees it:
 * - `name` is the function's image name (its `image`, default its own name), `tag` the project's;
 * - `go.main` is its main package;
 * - its memory, timeout, ephemeral storage, tenant isolation mode and logging win over the project's;
 * - `extensions` holds only the project extensions it names (all of them when it names none);
 * - `deploy` is the project's (repository, role, region, environment) with the function's own
 *   settings over it; `functionName` defaults to the function's name, and the project's
 *   functionName and devFunctionName are never inherited (they name one function); `deploy.environment` is the project's plus the function's
 *   `environment` (which wins), so the same variables reach Lambda and local runs;
 * - `url` is the function's own, else the project's;
 * - `functions` is gone: the result is a one-function config, and code written for one works.
 */
function functionConfig(config: Config, name: string, entry: FunctionEntry): Config {
  const { functions: _functions, ...project } = config;
  // The project's own Lambda names are not any one function's: each defaults to its own name.
  const { functionName: _name, devFunctionName: _dev, ...projectDeploy } = project.deploy ?? {};
  const environment = { ...project.deploy?.environment, ...entry.deploy?.environment, ...entry.environment };
  const extensions = entry.extensions
    ? project.extensions.filter((e) => entry.extensions!.includes(e.name))
    : project.extensions;
  return {
    ...project,
    name: entry.image ?? name,
    go: project.go ? { ...project.go, main: entry.main } : project.go,
    timeout: entry.timeout ?? project.timeout,
    memorySize: entry.memorySize ?? project.memorySize,
    ephemeralStorage: entry.ephemeralStorage ?? project.ephemeralStorage,
    tenantIsolationMode: entry.tenantIsolationMode ?? project.tenantIsolationMode,
    logging: entry.logging ?? project.logging,
    extensions,
    deploy: {
      ...projectDeploy,
      ...entry.deploy,
      functionName: entry.deploy?.functionName ?? name,
      ...(Object.keys(environment).length ? { environment } : {}),
    },
    url: entry.url ?? project.url,
    restApi: entry.restApi ?? project.restApi,
  };
}
