// The user's Docker registry credentials, read as the docker CLI reads them:
// $DOCKER_CONFIG/config.json (default ~/.docker): `credHelpers[host]`, else `credsStore`,
// else `auths[host].auth`. Helpers are run as `docker-credential-<name> get` with the host on
// stdin. No npm library for this is well kept, so this follows docker-credential-helpers'
// protocol directly (as testcontainers does).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';

const log = debug('registry');

export interface RegistryCredentials {
  username: string;
  password: string;
  /** Where they came from, for messages (never the secret itself). */
  source: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  return env.DOCKER_CONFIG || path.join(home, '.docker');
}

/** The keys the docker CLI may have stored a host under (Docker Hub has historical spellings). */
function hostKeys(host: string): string[] {
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') {
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  }
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

/** Credentials for one registry host, or undefined when the user has none (anonymous access). */
export async function dockerCredentialsFor(
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredentials | undefined> {
  const file = path.join(dockerConfigDir(env), 'config.json');
  let config: DockerConfigFile;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as DockerConfigFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LambdaImageError(
      'REGISTRY_AUTH_FAILED',
      `cannot read Docker credentials from ${file}: ${(err as Error).message.split('\n')[0]}`,
      {
        hint: 'fix the file (it must be JSON), or log in again with "docker login"',
      },
    );
  }
  const keys = hostKeys(host);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean);
  if (helper) return fromHelper(helper, host, env);
  if (config.credsStore) {
    const stored = await fromHelper(config.credsStore, host, env);
    if (stored) return stored;
  }
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.identitytoken) return { username: '<token>', password: entry.identitytoken, source: file };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0)
        throw new LambdaImageError('REGISTRY_AUTH_FAILED', `the saved login for ${host} in ${file} is malformed`, {
          hint: `log in again: docker login ${host}`,
        });
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: file };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source: file };
  }
  return undefined;
}

/** Runs `docker-credential-<name> get`; "credentials not found" means anonymous, anything else fails clearly. */
function fromHelper(name: string, host: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    return Promise.reject(
      new LambdaImageError('REGISTRY_AUTH_FAILED', `credential helper name "${name}" is not valid`, {
        hint: 'fix credsStore / credHelpers in your Docker config.json',
      }),
    );
  }
  log(`asking ${program} for ${host}`);
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      const out = String(stdout).trim();
      if (err) {
        if (/credentials not found/i.test(out)) return resolve(undefined);
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        // The helper's output may echo secrets: report its exit, not its words.
        return reject(
          new LambdaImageError(
            'REGISTRY_AUTH_FAILED',
            missing
              ? `credential helper ${program} is not installed`
              : `credential helper ${program} failed for ${host}`,
            {
              hint: missing
                ? `install ${program}, or remove it from your Docker config.json`
                : `log in again: docker login ${host}`,
            },
          ),
        );
      }
      try {
        const answer = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!answer.Secret) return resolve(undefined);
        resolve({ username: answer.Username ?? '', password: answer.Secret, source: program });
      } catch {
        reject(
          new LambdaImageError(
            'REGISTRY_AUTH_FAILED',
            `credential helper ${program} answered something that is not JSON`,
            { hint: `log in again: docker login ${host}` },
          ),
        );
      }
    });
    child.stdin?.end(host);
  });
}
