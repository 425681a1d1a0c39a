// Renders the generated files (Dockerfile, entry.sh, .dockerignore) from the templates
// under templates/, with one private Handlebars instance. Pure apart from reading templates.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type HandlebarsModule from 'handlebars';
import { GO_MODULE_SETTINGS, SECRET_PATTERNS } from '../config/constants.js';
import { controlCharacterProblem } from '../config/value-rules.js';
import { LambdaImageError } from '../errors.js';
import type { RenderSpec } from './variant.js';

const TEMPLATE_DIR = new URL('../../templates/', import.meta.url);
// The package's one-file build: the same Handlebars (compiler included) without the Node entry's
// extras (the printer, require('x.hbs') support, source maps), and a third of its load time.
const Handlebars = createRequire(import.meta.url)('handlebars/dist/handlebars.min.js') as typeof HandlebarsModule;
const hbs = Handlebars.create();
const compiled = new Map<string, HandlebarsModule.TemplateDelegate>();

function template(name: string): HandlebarsModule.TemplateDelegate {
  let t = compiled.get(name);
  if (!t) {
    const source = readFileSync(new URL(name, TEMPLATE_DIR), 'utf8');
    // strict: a missing field fails loudly; noEscape: "&&" stays "&&".
    t = hbs.compile(source, { strict: true, noEscape: true });
    compiled.set(name, t);
    if (name === 'Dockerfile.hbs') hbs.registerPartial('final', template('final-stage.hbs'));
  }
  return t;
}

export const GENERATED_MARK = '# lambda-image: generated';

/**
 * The render layer's own guard, behind the config's and options' checks: a Dockerfile
 * instruction ends at a line break, so no value with a control character may reach a template,
 * whatever path it came by.
 */
function guardTemplateData<T>(data: T, where = 'value'): T {
  if (typeof data === 'string') {
    const problem = controlCharacterProblem(data);
    if (problem) {
      throw new LambdaImageError(
        'INVALID_INPUT',
        `refusing to write ${JSON.stringify(data)} into a Dockerfile (${where}): ${problem}`,
        {
          hint: 'a line break in a value would add Dockerfile instructions: fix the value in lambda-image.json or the option',
        },
      );
    }
  } else if (Array.isArray(data)) {
    for (const [i, item] of data.entries()) guardTemplateData(item, `${where}[${i}]`);
  } else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) guardTemplateData(v, k);
  }
  return data;
}

/** Data for the templates: every field present, so strict mode catches typos, not absences. */
function templateData(spec: RenderSpec) {
  const { goBuilds, binaries } = goBuildPlan(spec);
  // The final stage: one unnamed (one function), or one named stage per function.
  const final = {
    isGo: spec.runtime === 'go',
    isAws: spec.base === 'aws',
    hasRie: spec.base === 'alpine' && spec.rie !== undefined,
    binary: spec.binary ?? '',
    baseImage: spec.baseImage,
    // JSON: the exec form of CMD is a JSON array, so the handler is quoted as JSON, never pasted.
    handlerJson: JSON.stringify(spec.handler),
    rieUrl: spec.rie?.kind === 'url' ? spec.rie.url : '',
    rieContextPath: spec.rie?.kind === 'context' ? spec.rie.path : '',
  };
  const finals = spec.functions
    ? spec.functions.map((f) => ({
        ...final,
        functionName: f.name,
        stageName: f.stage,
        layerDirs: f.layerDirs,
        goBinary: binaries.get(f.name)!,
        tree: `/tree/${f.stage}`,
      }))
    : [
        {
          ...final,
          functionName: '',
          stageName: '',
          layerDirs: spec.layerDirs,
          goBinary: '/out/bootstrap',
          tree: '/tree/bootstrap',
        },
      ];
  return guardTemplateData({
    ...final,
    usesBuildPlatform: spec.runtime === 'go' || spec.rie?.kind === 'url',
    builderImage: spec.builderImage ?? '',
    multi: spec.functions !== undefined,
    goMains: spec.functions ? spec.functions.map((f) => f.goMain).join(' ') : (spec.goMain ?? ''),
    goBuilds,
    finals,
    goVendor: spec.goVendor ?? false,
    cacheMounts: spec.cacheMounts,
    goArgs: GO_MODULE_SETTINGS.join(' '),
    // The build cache belongs to a toolchain: one cache mount per builder image.
    goCacheScope: (spec.builderImage ?? '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-'),
  });
}

/**
 * The `go build` commands of the build stage and where each function's binary lands. One
 * function: `-o /out/bootstrap`. Several: one `go build -o <dir>/ <mains...>` for all of them
 * (one process: packages are loaded once and binaries linked in parallel); `go` names each
 * binary after its package path (cmd/go's DefaultExecName), so mains whose names would clash
 * go to further commands with a folder each.
 */
function goBuildPlan(spec: RenderSpec): {
  goBuilds: Array<{ out: string; mains: string }>;
  binaries: Map<string, string>;
} {
  const binaries = new Map<string, string>();
  if (spec.runtime !== 'go') return { goBuilds: [], binaries };
  if (!spec.functions) return { goBuilds: [{ out: '/out/bootstrap', mains: spec.goMain ?? '' }], binaries };
  const groups: Array<{ names: Set<string>; mains: string[] }> = [];
  const placed: Array<{ fn: string; group: number; exe: string }> = [];
  for (const f of spec.functions) {
    // Two functions of one main package (other settings, same code) share its binary.
    const same = placed.find((p) => spec.functions!.find((g) => g.name === p.fn)!.goMain === f.goMain);
    if (same) {
      placed.push({ ...same, fn: f.name });
      continue;
    }
    const exe = goExecName(spec.goModule ?? '', f.goMain);
    let group = groups.findIndex((g) => !g.names.has(exe));
    if (group < 0) group = groups.push({ names: new Set(), mains: [] }) - 1;
    groups[group]!.names.add(exe);
    groups[group]!.mains.push(f.goMain);
    placed.push({ fn: f.name, group, exe });
  }
  const dir = (i: number) => (groups.length === 1 ? '/out/' : `/out/${i + 1}/`);
  for (const p of placed) binaries.set(p.fn, `${dir(p.group)}${p.exe}`);
  return { goBuilds: groups.map((g, i) => ({ out: dir(i), mains: g.mains.join(' ') })), binaries };
}

/**
 * The file name `go build -o <dir>/` gives a main package's binary: the last element of its
 * import path, or the one before it when that is a major version (v2, v3, ...).
 */
export function goExecName(module: string, main: string): string {
  const rel = main.replace(/^\.\/?/, '').replace(/\/$/, '');
  const importPath = rel ? `${module}/${rel}` : module;
  const parts = importPath.split('/');
  const last = parts.at(-1)!;
  return parts.length > 1 && /^v([2-9]|[1-9][0-9]+)$/.test(last) ? parts.at(-2)! : last;
}

/** The Dockerfile for one variant, with a header that says where it came from and a checksum of its body. */
export function renderDockerfile(spec: RenderSpec): string {
  const body = template('Dockerfile.hbs')(templateData(spec)).replace(/\n{3,}/g, '\n\n');
  const header = [
    `${GENERATED_MARK} from lambda-image.json (variant ${spec.variant}, ${spec.arch}).`,
    '# Edit lambda-image.json, then regenerate with "lambda-image init --force".',
    `# checksum: ${bodyChecksum(body)} (lets lambda-image notice hand edits)`,
  ].join('\n');
  return `${header}\n\n${body}`;
}

export function renderEntryScript(): string {
  return template('entry.sh.hbs')({});
}

export function renderDockerignore(): string {
  return template('dockerignore.hbs')({ secretPatterns: SECRET_PATTERNS });
}

function bodyChecksum(body: string): string {
  return 'sha256:' + createHash('sha256').update(body).digest('hex').slice(0, 16);
}

export type DockerfileOrigin = 'generated' | 'hand-edited' | 'foreign';

/** Tells whether an existing Dockerfile is ours and untouched, ours but edited, or not ours at all. */
export function dockerfileOrigin(text: string): DockerfileOrigin {
  if (!text.startsWith(GENERATED_MARK)) return 'foreign';
  const m = /^# checksum: (sha256:[a-f0-9]{16})\b.*\n\n/m.exec(text);
  if (!m) return 'hand-edited';
  const body = text.slice(m.index + m[0].length);
  return bodyChecksum(body) === m[1] ? 'generated' : 'hand-edited';
}

/** The files of one variant, keyed by their path in the project / build context. */
export interface RenderedFiles {
  Dockerfile: string;
  'entry.sh'?: string;
}

export function renderVariantFiles(spec: RenderSpec): RenderedFiles {
  const files: RenderedFiles = { Dockerfile: renderDockerfile(spec) };
  if (spec.base === 'alpine' && spec.rie) files['entry.sh'] = renderEntryScript();
  return files;
}

/** What the GitHub Actions workflow needs; every field is plain text put into YAML as is. */
export interface GithubWorkflowSpec {
  /** The function directory relative to the repository root ("." when it is the root). */
  dir: string;
  repository: string;
  region: string;
  /** A role ARN, or a `${{ vars.NAME }}` expression. */
  roleToAssume: string;
  /** The execution role new functions get: a role ARN, or a `${{ vars.NAME }}` expression. */
  functionRole: string;
  /** The lambda-image version CI installs (the one that wrote the workflow). */
  version: string;
  /** The functions the workflow deploys (a one-function project: a list of one). */
  functions: GithubWorkflowFunction[];
  /** The functions the build and deploy steps act on (named with ci github --function); empty: all. */
  buildFunctions?: string[];
  /**
   * A project of several, one function named with --function-name / --dev-function-name:
   * those names go to the deploy step; absent, the step deploys with `--dev` from dev, each
   * function to the targets lambda-image.json gives it when the workflow runs.
   */
  namedTargets?: { prodFunction: string; devFunction: string };
  /** ci github --repository / --region: given to the deploy step; absent, the config's (per function). */
  repositoryFlag?: string;
  regionFlag?: string;
}

/** One function the workflow deploys, with its targets as checked when the workflow was written. */
export interface GithubWorkflowFunction {
  /** Its name in lambda-image.json (`--function`). */
  name: string;
  prodFunction: string;
  devFunction: string;
  region: string;
  /** Given to every deploy (ci github --repository); absent: each function's config. */
  repository?: string;
}

export function renderGithubWorkflow(spec: GithubWorkflowSpec): string {
  const functions = spec.functions.map((f) => ({ ...f, repository: f.repository ?? '' }));
  return template('github-workflow.yml.hbs')({
    ...spec,
    functions,
    buildFunctions: spec.buildFunctions ?? [],
    repositoryFlag: spec.repositoryFlag ?? '',
    regionFlag: spec.regionFlag ?? '',
    namedTargets: spec.namedTargets,
  });
}

/** One template of templates/ rendered with the project's Handlebars rules (strict, no escaping), its data guarded. */
export function renderTemplate(name: string, data: Record<string, unknown>): string {
  return template(name)(guardTemplateData(data));
}
