// What Lambda accepts as an image manifest, checked without I/O: a single-platform Docker v2
// schema 2 or OCI image manifest (never an index or manifest list), for one architecture
// Lambda runs, whose content has the digest that was pushed.
import { createHash } from 'node:crypto';
import { LambdaImageError } from '../errors.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

/** Accept header for manifest reads: every kind, so an index comes back as an index (and can be refused). */
export const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');

const SINGLE = new Set<string>([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]);
const INDEX = new Set<string>([MEDIA_TYPES.dockerList, MEDIA_TYPES.ociIndex]);

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string };
}

export interface ImageManifest {
  schemaVersion?: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export function sha256Digest(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** The manifest's media type: the body's own field, else the Content-Type the registry sent. */
export function manifestMediaType(manifest: ImageManifest, contentType?: string): string {
  return manifest.mediaType ?? contentType?.split(';')[0]?.trim() ?? '';
}

export interface ManifestCheck {
  mediaType: string;
  digest: string;
  configDigest: string;
  /** Bytes a pull transfers: config plus compressed layers; undefined when the registry does not say. */
  compressedSize?: number;
}

/**
 * Checks a manifest read back from a registry. `expectedDigest` is the digest the push
 * reported (or the one named in --image-uri); the body must hash to it.
 */
export function checkManifest(
  body: Uint8Array,
  contentType: string | undefined,
  where: string,
  expectedDigest?: string,
): ManifestCheck {
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(Buffer.from(body).toString('utf8')) as ImageManifest;
    // `null`, a string or an array parse as JSON, and are no manifest either.
    if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new Error('not an object');
  } catch {
    throw new LambdaImageError(
      'MANIFEST_REJECTED',
      `the registry answered ${where} with something that is not a JSON manifest`,
    );
  }
  const mediaType = manifestMediaType(manifest, contentType);
  const descriptors = (list: unknown) =>
    Array.isArray(list) && list.every((d) => d && typeof d === 'object') ? (list as Descriptor[]) : undefined;
  if (manifest.manifests !== undefined) manifest.manifests = descriptors(manifest.manifests) ?? [];
  const digest = sha256Digest(body);
  if (INDEX.has(mediaType) || Array.isArray(manifest.manifests)) {
    const platforms = (manifest.manifests ?? [])
      .map((m) => (m.platform ? `${m.platform.os ?? '?'}/${m.platform.architecture ?? '?'}` : 'unknown'))
      .join(', ');
    throw new LambdaImageError(
      'MANIFEST_REJECTED',
      `${where} is an image index (${mediaType || 'no media type'}; entries: ${platforms || 'none'}), and Lambda accepts only a single-platform image`,
      {
        hint: 'build without attestations (docker buildx build --provenance=false --sbom=false, or docker/build-push-action with provenance: false and sbom: false), for one platform, then push again',
      },
    );
  }
  if (!SINGLE.has(mediaType)) {
    throw new LambdaImageError(
      'MANIFEST_REJECTED',
      `${where} has media type "${mediaType || 'none'}", which Lambda does not accept`,
      {
        hint: `Lambda accepts ${MEDIA_TYPES.dockerManifest} or ${MEDIA_TYPES.ociManifest}; push the image again with a current Docker engine`,
      },
    );
  }
  const layers = descriptors(manifest.layers);
  if (
    !manifest.config ||
    typeof manifest.config !== 'object' ||
    typeof manifest.config.digest !== 'string' ||
    !layers
  ) {
    throw new LambdaImageError('MANIFEST_REJECTED', `${where} has no config or layers`);
  }
  if (expectedDigest && digest !== expectedDigest) {
    throw new LambdaImageError('MANIFEST_REJECTED', `${where} has digest ${digest}, not ${expectedDigest} as pushed`, {
      hint: 'someone else pushed the same tag at the same moment, or the registry rewrote the manifest; push again',
    });
  }
  // Sizes are optional in practice (some registries leave them out): unknown, never NaN.
  const sizes = [manifest.config, ...layers].map((d) => d.size);
  const compressedSize = sizes.every((n) => Number.isSafeInteger(n) && n >= 0)
    ? sizes.reduce((a, b) => a + b, 0)
    : undefined;
  return { mediaType, digest, configDigest: manifest.config.digest, compressedSize };
}

/** Lambda's architecture name for an image config's architecture; a clear error for one Lambda does not run. */
export function lambdaArchitecture(
  configArchitecture: string | undefined,
  os: string | undefined,
  where: string,
): 'x86_64' | 'arm64' {
  if (os && os !== 'linux') {
    throw new LambdaImageError('PLATFORM_MISMATCH', `${where} is built for ${os}, and Lambda runs linux images`, {
      hint: 'build for linux/amd64 or linux/arm64',
    });
  }
  if (configArchitecture === 'amd64') return 'x86_64';
  if (configArchitecture === 'arm64') return 'arm64';
  throw new LambdaImageError(
    'PLATFORM_MISMATCH',
    `${where} is built for ${configArchitecture ?? 'an unknown architecture'}, and Lambda runs amd64 (x86_64) or arm64`,
    {
      hint: 'build with --arch x86_64 or --arch arm64',
    },
  );
}
