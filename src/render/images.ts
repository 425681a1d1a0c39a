// The image references and emulator release the generated Dockerfiles use, and the
// facts about them that decide what lambda-image accepts (see README "Base images").
import type { Arch, Base } from '../config/constants.js';

/** Amazon Linux 2023 OS-only base: the current AWS base for custom runtimes and Go. */
export const AWS_BASE_IMAGE = 'public.ecr.aws/lambda/provided:al2023';
/** A pinned alpine release: small, musl-based, no emulator. */
export const ALPINE_BASE_IMAGE = 'alpine:3.22';

export function defaultBaseImage(base: Base): string {
  return base === 'aws' ? AWS_BASE_IMAGE : ALPINE_BASE_IMAGE;
}

/** The official Go image for a module's Go version; alpine flavour because it pulls fastest. */
export function goBuilderImage(goVersion: string): string {
  return `golang:${goVersion}-alpine`;
}

export function rieAssetName(arch: Arch): string {
  return arch === 'arm64' ? 'aws-lambda-rie-arm64' : 'aws-lambda-rie';
}

export function rieDownloadUrl(version: string, arch: Arch): string {
  return `https://github.com/aws/aws-lambda-runtime-interface-emulator/releases/download/${version}/${rieAssetName(arch)}`;
}

/** Docker's platform string for a Lambda architecture. */
export function dockerPlatform(arch: Arch): string {
  return arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/** Docker's architecture name (as in `docker image inspect`) for a Lambda architecture. */
export function dockerArchitecture(arch: Arch): string {
  return arch === 'arm64' ? 'arm64' : 'amd64';
}

export interface BaseImageVerdict {
  /** Set when the image must not be used at all. */
  refuse?: string;
  warn?: string;
}

/** Judges a base image reference against Lambda's runtime deprecations. */
export function judgeBaseImage(ref: string): BaseImageVerdict {
  if (/\/lambda\/go(:|@|$)/.test(ref)) {
    return { refuse: `${ref} is the go1.x runtime, which Lambda retired with Amazon Linux 1 at the end of 2023` };
  }
  if (/\/lambda\/provided:al2(?!023)/.test(ref) || /\/lambda\/provided(:latest)?$/.test(ref)) {
    return {
      warn:
        `${ref} is Amazon Linux 2, deprecated by Lambda on 2026-06-30: creating functions is blocked from 2026-07-31 ` +
        `and updating them from 2026-08-31; use ${AWS_BASE_IMAGE}`,
    };
  }
  if (/\/lambda\/provided:alami/.test(ref)) {
    return { refuse: `${ref} is Amazon Linux 1, which Lambda no longer runs` };
  }
  return {};
}
