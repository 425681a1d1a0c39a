// What a built image is and where its bytes are: base, function binary, emulator,
// extensions, other, attributed from the image's layer history.
import { LambdaImageError } from '../errors.js';
import type { HistoryEntry, ImageClient } from './images.js';

/** The label lambda-image's test stand-in base images carry (made by scripts/standins.mjs). */
export const STANDIN_LABEL = 'org.lambda-image.standin';

export interface SizeBreakdown {
  base: number;
  binary: number;
  rie: number;
  extensions: number;
  other: number;
}

/** A built image as the size report shows it. */
export interface BuiltImageFacts {
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
  // The reproducible tree copied whole onto /: BuildKit names it (`COPY /tree/<fn>/ /`), the
  // classic builder only as `COPY dir:<hash> in /`; nothing else of ours is copied to / itself.
  if (/COPY (\/tree\/\S+|dir:[0-9a-f]+ in) \/(\s|$)/.test(createdBy)) return 'binary';
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
export async function inspectBuiltImage(images: ImageClient, ref: string, baseRef: string): Promise<BuiltImageFacts> {
  const [info, history] = await Promise.all([images.inspect(ref), images.history(ref)]);
  if (!info) {
    throw new LambdaImageError('IMAGE_NOT_FOUND', `${ref} was removed from the engine right after it was built`, {
      hint: 'something else on this engine removed it (a prune?): build again',
    });
  }
  let baseHistoryLength = 0;
  let baseIsStandin = false;
  const base = await images.inspect(baseRef);
  if (base) {
    // Absent base (removed since): count nothing as base rather than guess.
    baseHistoryLength = (await images.history(baseRef)).length;
    baseIsStandin = Boolean(base.labels[STANDIN_LABEL]);
  }
  return {
    id: info.id,
    architecture: info.architecture,
    os: info.os,
    size: info.size,
    layers: info.layers,
    breakdown: attributeLayers(history, baseHistoryLength),
    baseIsStandin,
  };
}
