// What a built image is and where its bytes are: base, function binary, emulator,
// extensions, other, attributed from the image's layer history.
import type Dockerode from 'dockerode';

/** The label lambda-image's stand-in base images carry (see src/dev/standins.ts). */
export const STANDIN_LABEL = 'org.lambda-image.standin';

export interface SizeBreakdown {
  base: number;
  binary: number;
  rie: number;
  extensions: number;
  other: number;
}

export interface HistoryEntry {
  CreatedBy: string;
  Size: number;
}

export interface ImageFacts {
  id: string;
  architecture: string;
  os: string;
  size: number;
  layers: number;
  breakdown: SizeBreakdown;
  /** The base is one of lambda-image's test stand-ins (its sizes say nothing about the real image). */
  baseIsStandin: boolean;
}

/** Which part of the image a layer carries, judged from the instruction that made it. */
export function classifyLayer(createdBy: string): Exclude<keyof SizeBreakdown, 'base'> {
  if (/aws-lambda-rie/.test(createdBy)) return 'rie';
  if (/\/var\/runtime\/bootstrap\b/.test(createdBy) && /COPY/.test(createdBy)) return 'binary';
  if (/COPY .* \/opt\/?(\s|$)/.test(createdBy)) return 'extensions';
  return 'other';
}

/**
 * Splits an image's history (newest first, as the engine returns it) into the base's part
 * (the oldest `baseHistoryLength` entries) and the parts this image added. Pure.
 */
export function attributeLayers(history: HistoryEntry[], baseHistoryLength: number): SizeBreakdown {
  const breakdown: SizeBreakdown = { base: 0, binary: 0, rie: 0, extensions: 0, other: 0 };
  const added = history.length - baseHistoryLength;
  history.forEach((h, i) => {
    if (i >= added) breakdown.base += h.Size;
    else breakdown[classifyLayer(h.CreatedBy)] += h.Size;
  });
  return breakdown;
}

/** Inspects a built image and attributes its bytes, using its base image's history to find the base's layers. */
export async function inspectBuiltImage(docker: Dockerode, ref: string, baseRef: string): Promise<ImageFacts> {
  const image = docker.getImage(ref);
  const [info, history] = await Promise.all([image.inspect(), image.history() as Promise<HistoryEntry[]>]);
  let baseHistoryLength = 0;
  let baseIsStandin = false;
  try {
    const base = docker.getImage(baseRef);
    baseHistoryLength = ((await base.history()) as HistoryEntry[]).length;
    baseIsStandin = Boolean((await base.inspect()).Config?.Labels?.[STANDIN_LABEL]);
  } catch {
    // The base is gone from the engine: count nothing as base rather than guess.
  }
  return {
    id: info.Id,
    architecture: info.Architecture,
    os: info.Os,
    size: info.Size,
    layers: info.RootFS?.Layers?.length ?? 0,
    breakdown: attributeLayers(history, baseHistoryLength),
    baseIsStandin,
  };
}
