// Reads an image back from its registry and checks it is what Lambda accepts (see
// manifest.ts): one platform, a Lambda architecture, the expected digest.
import { LambdaImageError } from '../errors.js';
import type { RegistryCredentials } from './docker-credentials.js';
import { checkManifest, lambdaArchitecture } from './manifest.js';
import { RegistryClient, referenceText } from './registry-client.js';

export interface VerifiedImage {
  /** host/path, without tag or digest. */
  repository: string;
  digest: string;
  mediaType: string;
  /** The image config's digest: the engine's image ID for the same image. */
  configDigest: string;
  /** Lambda's name: x86_64 or arm64. */
  architecture: 'x86_64' | 'arm64';
  /** Undefined when the registry's manifest does not give every size. */
  compressedSize?: number;
}

export async function verifyRemoteImage(
  host: string,
  path: string,
  reference: string,
  credentials: RegistryCredentials | undefined,
  expectedDigest?: string,
): Promise<VerifiedImage> {
  const client = new RegistryClient(host, credentials);
  const where = referenceText(host, path, reference);
  const res = await client.getManifest(path, reference);
  const check = checkManifest(res.body, res.contentType, where, expectedDigest);
  if (res.digest && res.digest !== check.digest) {
    throw new LambdaImageError(
      'MANIFEST_REJECTED',
      `${where}: the registry says digest ${res.digest}, but the manifest hashes to ${check.digest}`,
      {
        hint: 'the registry or a proxy rewrote the manifest; push again',
      },
    );
  }
  let config: { architecture?: string; os?: string };
  try {
    config = JSON.parse((await client.getBlob(path, check.configDigest)).toString('utf8'));
    if (!config || typeof config !== 'object') throw new Error('not an object');
  } catch (err) {
    if (err instanceof LambdaImageError) throw err;
    throw new LambdaImageError('MANIFEST_REJECTED', `the image config of ${where} is not JSON`);
  }
  return {
    repository: `${host}/${path}`,
    digest: check.digest,
    mediaType: check.mediaType,
    configDigest: check.configDigest,
    architecture: lambdaArchitecture(config.architecture, config.os, where),
    compressedSize: check.compressedSize,
  };
}
