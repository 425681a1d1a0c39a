// Which credentials a registry host gets: ECR hosts (and the host of an ECR login already
// made) get a GetAuthorizationToken login; every other host gets the user's Docker
// credentials. `registryAuthFor` is the one entry point for anything that talks to a
// registry through the engine (push here; builds that pull from private registries too).
import type { AwsOptions } from '../aws/clients.js';
import type { EcrToken } from '../aws/ecr.js';
import { parseImageReference, type ImageReference } from '../config/image-reference.js';
import { LambdaImageError } from '../errors.js';
import { dockerCredentialsFor, type RegistryCredentials } from './docker-credentials.js';
import { parseEcrHost } from './ecr-host.js';

/** The X-Registry-Auth object the Engine API takes (dockerode's `authconfig`). */
export interface DockerAuthConfig {
  username: string;
  password: string;
  serveraddress: string;
}

export interface RegistryAuthOptions extends AwsOptions {
  /** An ECR login already made in this run: used for its own host without asking AWS again. */
  ecrToken?: EcrToken;
  env?: NodeJS.ProcessEnv;
}

/** The registry host a reference names; Docker Hub when it names none. */
export function registryHost(ref: ImageReference): string {
  return ref.domain ?? 'docker.io';
}

/**
 * Credentials for the registry a reference lives in, or undefined for anonymous access.
 * ECR hosts ask ECR (in the host's own region) for a 12-hour login; others read
 * ~/.docker/config.json (DOCKER_CONFIG), its credHelpers and credsStore.
 */
export async function registryCredentialsFor(
  ref: string | ImageReference,
  opts: RegistryAuthOptions = {},
): Promise<RegistryCredentials | undefined> {
  const parsed = typeof ref === 'string' ? parseImageReference(ref) : ref;
  const host = registryHost(parsed);
  if (opts.ecrToken && opts.ecrToken.host === host)
    return { username: opts.ecrToken.username, password: opts.ecrToken.password, source: 'ECR GetAuthorizationToken' };
  const ecr = parseEcrHost(host);
  if (ecr) {
    const { EcrApi } = await import('../aws/ecr.js');
    const api = await EcrApi.open({ profile: opts.profile, region: ecr.region });
    try {
      const token = await api.loginFor(host);
      return { username: token.username, password: token.password, source: 'ECR GetAuthorizationToken' };
    } finally {
      api.destroy();
    }
  }
  // Everything else, ECR Public included (its logins come from another API; pulls work anonymously).
  return dockerCredentialsFor(host, opts.env);
}

/** The engine's authconfig for a reference (see registryCredentialsFor); undefined for anonymous access. */
export async function registryAuthFor(
  ref: string | ImageReference,
  opts: RegistryAuthOptions = {},
): Promise<DockerAuthConfig | undefined> {
  const parsed = typeof ref === 'string' ? parseImageReference(ref) : ref;
  const creds = await registryCredentialsFor(parsed, opts);
  return creds ? toAuthConfig(creds, registryHost(parsed)) : undefined;
}

export function toAuthConfig(creds: RegistryCredentials, host: string): DockerAuthConfig {
  if (!creds.password)
    throw new LambdaImageError('REGISTRY_AUTH_FAILED', `the saved login for ${host} has no password`, {
      hint: `log in again: docker login ${host}`,
    });
  return { username: creds.username, password: creds.password, serveraddress: host };
}

/**
 * Credentials for the images a build pulls, in the shape the engine's X-Registry-Config takes:
 * the same lookup push uses (Docker config.json auths, credsStore and credHelpers; an ECR
 * GetAuthorizationToken login for ECR hosts).
 */
export function userRegistryAuth(
  env: NodeJS.ProcessEnv = process.env,
): (ref: string) => Promise<{ username?: string; password?: string; identitytoken?: string } | undefined> {
  return async (ref) => {
    const auth = await registryAuthFor(ref, { env });
    if (!auth) return undefined;
    // The docker CLI stores identity tokens with the user name "<token>"; the engine wants them as identitytoken.
    return auth.username === '<token>'
      ? { identitytoken: auth.password }
      : { username: auth.username, password: auth.password };
  };
}
