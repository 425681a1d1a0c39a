// Which image store the engine keeps images in: Docker's classic graph drivers, or containerd's
// (Docker 29's default on new installs; an opt-in since Docker 24). The containerd store names
// an image by its manifest/index digest (not its config digest), keeps provenance/SBOM
// attestation manifests beside the image in one index, and pushes that whole index unless
// the push names a platform: an index Lambda refuses.
import type Dockerode from 'dockerode';
import { compareVersions } from './engine.js';

export type ImageStore = 'containerd' | 'classic';

/** The first API version whose image push takes a `platform` (push one manifest, no index). */
export const PUSH_PLATFORM_API = '1.46';

/** From GET /info: the containerd store reports its snapshotter as DriverStatus' driver-type. Pure. */
export function imageStoreOf(info: { DriverStatus?: Array<[string, string]> | null }): ImageStore {
  return (info.DriverStatus ?? []).some(
    ([k, v]) => k === 'driver-type' && /^io\.containerd\.snapshotter\./.test(String(v)),
  )
    ? 'containerd'
    : 'classic';
}

/** What a push must send as `platform` so only the image's own manifest goes (undefined: the engine pushes one anyway). */
export interface PushPlatform {
  os: string;
  architecture: string;
}

/**
 * The platform a push of a local `architecture` image names: on the containerd store with
 * API 1.46 or later, so the registry gets the single-platform manifest and not the index with
 * its attestations. undefined on the classic store (it pushes one manifest) and on older APIs
 * (which cannot choose; the manifest check after the push then says what went wrong).
 */
export async function pushPlatformFor(
  docker: Pick<Dockerode, 'info'>,
  apiVersion: string,
  architecture: string,
): Promise<PushPlatform | undefined> {
  if (!apiVersion || compareVersions(apiVersion, PUSH_PLATFORM_API) < 0) return undefined;
  // No answer: push as before (the manifest check after the push still refuses an index).
  const info = (await Promise.resolve()
    .then(() => docker.info())
    .catch(() => ({}))) as { DriverStatus?: Array<[string, string]> };
  return imageStoreOf(info) === 'containerd' ? { os: 'linux', architecture } : undefined;
}
