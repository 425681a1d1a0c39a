// The config's enumerations, kept free of the schema library so the CLI's start-up stays light.
export const BASES = ['aws', 'alpine'] as const;
export const ARCHES = ['x86_64', 'arm64'] as const;
export const RUNTIMES = ['go', 'provided'] as const;
export type Base = (typeof BASES)[number];
export type Arch = (typeof ARCHES)[number];
export type Runtime = (typeof RUNTIMES)[number];
export const CONFIG_FILE = 'lambda-image.json';
export const VARIANTS = ['aws', 'alpine', 'alpine-rie'] as const;
export type VariantName = (typeof VARIANTS)[number];
/** Runtime Interface Emulator release the Dockerfiles pin (never "latest"). */
export const RIE_VERSION = 'v1.30';
/**
 * Go module settings that builds pass to the Go stages only (build arguments, never ENV of the
 * final image): from --build-arg or the config's go.env.
 */
export const GO_MODULE_SETTINGS = [
  'GOPROXY',
  'GOPRIVATE',
  'GONOSUMDB',
  'GONOPROXY',
  'GOFLAGS',
  'GOINSECURE',
  'GOSUMDB',
] as const;
export type GoModuleSetting = (typeof GO_MODULE_SETTINGS)[number];
/** How modules reach the build: auto (vendor/ when vendor/modules.txt exists, else downloaded in the image) or host. */
export const GO_MODULE_MODES = ['auto', 'host'] as const;
export type GoModuleMode = (typeof GO_MODULE_MODES)[number];
/** lambda-image's own tree in a project: the only place it ever deletes. */
export const OWN_DIR = '.lambda-image';
/** Unpacked layers, one folder each (`<name>-<version>`), copied to /opt by the Dockerfile. */
export const LAYERS_DIR = `${OWN_DIR}/layers`;
/** Function URL invoke modes (config url.invokeMode, --invoke-mode). */
export const INVOKE_MODES = ['BUFFERED', 'RESPONSE_STREAM'] as const;
export type InvokeMode = (typeof INVOKE_MODES)[number];
/** Lambda's LoggingConfig values (config `logging`): the log format and the two level filters. */
export const LOG_FORMATS = ['Text', 'JSON'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** Application log levels, most verbose first (a level shows itself and those after it). */
export const APPLICATION_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type ApplicationLogLevel = (typeof APPLICATION_LOG_LEVELS)[number];
/** System (platform) log levels, most verbose first. */
export const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;
export type SystemLogLevel = (typeof SYSTEM_LOG_LEVELS)[number];
/** Lambda's TenancyConfig.TenantIsolationMode values (config tenantIsolationMode). */
export const TENANT_ISOLATION_MODES = ['PER_TENANT'] as const;
export type TenantIsolationMode = (typeof TENANT_ISOLATION_MODES)[number];
/** Function URL auth types (config url.authType, deploy --url-auth). */
export const URL_AUTH_TYPES = ['NONE', 'AWS_IAM'] as const;
export type UrlAuthType = (typeof URL_AUTH_TYPES)[number];
/** Which front `start --http-port` plays (--http-event). */
export const HTTP_EVENTS = ['url', 'http-api', 'rest-api'] as const;

/**
 * Files that hold credentials, in .dockerignore syntax: excluded by the generated .dockerignore
 * and, without any .dockerignore, by default; named in a warning when a user's file lets one in.
 */
export const SECRET_PATTERNS = [
  '**/.env',
  '**/.env.*',
  '**/.aws',
  '**/.ssh',
  '**/.gnupg',
  '**/.docker/config.json',
  '**/.dockercfg',
  '**/.npmrc',
  '**/.yarnrc.yml',
  '**/.netrc',
  '**/_netrc',
  '**/.pypirc',
  '**/.git-credentials',
  '**/.gem/credentials',
  '**/.kube/config',
  '**/id_rsa*',
  '**/id_dsa*',
  '**/id_ecdsa*',
  '**/id_ed25519*',
  '**/*.pem',
  '**/*.key',
  '**/*.p12',
  '**/*.pfx',
  '**/*.jks',
  '**/*.keystore',
  '**/*.tfstate',
  '**/*.tfstate.*',
];

/** How `start --watch` compiles after a Go edit: in the builder image (default), with the host's go, or a full image build each time. */
export const COMPILE_MODES = ['builder', 'host', 'image'] as const;
export type CompileMode = (typeof COMPILE_MODES)[number];
