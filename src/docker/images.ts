// A small interface over the engine's image API (the model: testcontainers-node's
// ImageClient), so use cases ask for what they need instead of holding the raw client.
import type Dockerode from 'dockerode';
import type { Engine } from './engine.js';

export interface ImageInfo {
  id: string;
  os: string;
  architecture: string;
  size: number;
  layers: number;
  labels: Record<string, string>;
}

export interface HistoryEntry {
  CreatedBy: string;
  Size: number;
}

export interface ImageClient {
  /** undefined when the engine has no image by that reference. */
  inspect(ref: string): Promise<ImageInfo | undefined>;
  /** Newest first, as the engine returns it. */
  history(ref: string): Promise<HistoryEntry[]>;
}

export function imageClient(engine: Pick<Engine, 'docker'>): ImageClient {
  const { docker } = engine;
  return {
    async inspect(ref) {
      let info: Dockerode.ImageInspectInfo;
      try {
        info = await docker.getImage(ref).inspect();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
      return {
        id: info.Id,
        os: info.Os,
        architecture: info.Architecture,
        size: info.Size,
        layers: info.RootFS?.Layers?.length ?? 0,
        labels: info.Config?.Labels ?? {},
      };
    },
    async history(ref) {
      return (await docker.getImage(ref).history()) as HistoryEntry[];
    },
  };
}
