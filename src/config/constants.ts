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
/** lambda-image's own tree in a project: the only place it ever deletes. */
export const OWN_DIR = '.lambda-image';
/** Unpacked layers, one folder each (`<name>-<version>`), copied to /opt by the Dockerfile. */
export const LAYERS_DIR = `${OWN_DIR}/layers`;
