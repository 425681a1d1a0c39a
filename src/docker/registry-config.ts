// Registry credentials for the images a build pulls (base, Go builder), sent to the engine as
// dockerode's `registryconfig` (the X-Registry-Config header: host -> auth config), so a base
// or builder behind a private registry or mirror can be pulled. Credentials are only ever
// passed to the engine, never printed or logged.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

/** Finds credentials for one image reference, or undefined when the user has none for its registry. */
export type RegistryAuthProvider = (ref: string) => Promise<BuildAuthConfig | undefined>;

/** The docker CLI's key for Docker Hub in config.json and in X-Registry-Config. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The registry host a reference pulls from, as config.json keys it. */
export function registryKey(ref: string): string {
  const { domain } = parseImageReference(ref);
  return !domain || domain === 'docker.io' || domain === 'index.docker.io' ? DOCKER_HUB_KEY : domain;
}

/**
 * The fallback provider: `auths` entries of $DOCKER_CONFIG/config.json (default ~/.docker),
 * keyed by host or by URL. Credential helpers and ECR tokens come from src/registry when wired.
 */
export function dockerConfigAuths(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): RegistryAuthProvider {
  let auths: Promise<Record<string, BuildAuthConfig>> | undefined;
  const load = async (): Promise<Record<string, BuildAuthConfig>> => {
    const file = path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json');
    try {
      return (JSON.parse(await readFile(file, 'utf8')) as { auths?: Record<string, BuildAuthConfig> }).auths ?? {};
    } catch {
      return {};
    }
  };
  return async (ref) => {
    auths ??= load();
    const all = await auths;
    const key = registryKey(ref);
    const host = key === DOCKER_HUB_KEY ? 'index.docker.io' : key;
    const found = Object.entries(all).find(([k]) => k === key || k.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === host);
    if (!found) return undefined;
    const entry = { ...found[1] };
    if (entry.auth && !entry.username) {
      const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon > 0) Object.assign(entry, { username: plain.slice(0, colon), password: plain.slice(colon + 1) });
    }
    if (!entry.username && !entry.identitytoken) return undefined;
    return { username: entry.username, password: entry.password, identitytoken: entry.identitytoken, serveraddress: key };
  };
}

/** The registryconfig map for the images a build pulls: one entry per registry that has credentials. */
export async function registryConfigFor(refs: string[], provider: RegistryAuthProvider): Promise<Record<string, BuildAuthConfig>> {
  const config: Record<string, BuildAuthConfig> = {};
  for (const ref of new Set(refs)) {
    const key = registryKey(ref);
    if (config[key]) continue;
    const auth = await provider(ref);
    if (auth) {
      config[key] = { ...auth, serveraddress: auth.serveraddress ?? key };
      log(`credentials for ${key} sent with the build`);
    }
  }
  return config;
}
