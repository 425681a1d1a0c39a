// Registry credentials for the images a build pulls (base, Go builder), sent to the engine as
// dockerode's `registryconfig` (the X-Registry-Config header: host -> auth config), so a base
// or builder behind a private registry or mirror can be pulled. Credentials are only ever
// passed to the engine, never printed or logged.
import { parseImageReference } from '../config/image-reference.js';
import { debug } from '../util/debug.js';

const log = debug('registry');

/** An entry of the X-Registry-Config map (the Engine API's AuthConfig). */
export interface BuildAuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  serveraddress?: string;
}

/**
 * Finds credentials for one image reference, or undefined when the user has none for its
 * registry. The use case passes one in (src/registry's userRegistryAuth): the engine adapter
 * never looks credentials up itself.
 */
export type RegistryAuthProvider = (ref: string) => Promise<BuildAuthConfig | undefined>;

/** The docker CLI's key for Docker Hub in config.json and in X-Registry-Config. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The registry host a reference pulls from, as config.json keys it. */
export function registryKey(ref: string): string {
  const { domain } = parseImageReference(ref);
  return !domain || domain === 'docker.io' || domain === 'index.docker.io' ? DOCKER_HUB_KEY : domain;
}

/** The registryconfig map for the images a build pulls: one entry per registry that has credentials. */
export async function registryConfigFor(
  refs: string[],
  provider: RegistryAuthProvider,
  onWarning: (message: string) => void = () => {},
): Promise<Record<string, BuildAuthConfig>> {
  const config: Record<string, BuildAuthConfig> = {};
  for (const ref of new Set(refs)) {
    const key = registryKey(ref);
    if (config[key]) continue;
    // An image the engine already has needs no login: a failed lookup is a warning, and a pull
    // that then fails reports the missing image itself.
    const auth = await provider(ref).catch((err: Error) => {
      onWarning(
        `no registry credentials for ${key === DOCKER_HUB_KEY ? 'Docker Hub' : key}: ${err.message.split('\n')[0]}; pulling ${ref} anonymously if needed`,
      );
      return undefined;
    });
    if (auth) {
      config[key] = { ...auth, serveraddress: auth.serveraddress ?? key };
      log(`credentials for ${key} sent with the build`);
    }
  }
  return config;
}
