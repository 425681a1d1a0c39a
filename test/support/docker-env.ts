// What the global set-up tells Docker tests: whether they can run, and the stand-ins' names.
/** The stand-ins' names for one architecture (scripts/standins.mjs). */
export interface StandinRefs {
  alpine: string;
  aws: string;
  golang: string;
}

/** The Go version in fixtures/go-hello/go.mod, so the builder stand-in gets the right name. */
export const FIXTURE_GO_VERSION = '1.23';

export interface DockerEnv {
  available: boolean;
  reason: string;
  refs?: { x86_64: StandinRefs; arm64: StandinRefs };
  /** Stand-in emulator binaries (our own, not the AWS RIE) per architecture. */
  rie?: { x86_64: string; arm64: string };
}
