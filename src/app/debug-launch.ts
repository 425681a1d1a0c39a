// What an IDE needs to attach to `--debug`: VS Code's launch.json entry and GoLand's settings,
// and the facts `--debug --json` prints. Pure. The binary is built with -trimpath, so the
// paths compiled into it start with the module path, not the project's folder: substitutePath
// maps one to the other.

export interface DebugAttachFacts {
  port: number;
  /** The project's folder on this machine. */
  projectDir: string;
  /** The Go module path (what -trimpath compiles into the binary's file names). */
  modulePath: string;
  /** Where delve came from: the pinned release built in the image, or --delve-from's file. */
  delve: string;
}

export function vscodeLaunch(f: DebugAttachFacts): Record<string, unknown> {
  return {
    name: 'lambda-image: attach',
    type: 'go',
    request: 'attach',
    mode: 'remote',
    host: '127.0.0.1',
    port: f.port,
    substitutePath: [{ from: f.projectDir, to: f.modulePath }],
  };
}

export function golandSettings(f: DebugAttachFacts): string[] {
  return [
    'GoLand: Run > Edit Configurations > + > Go Remote',
    `  Host: 127.0.0.1   Port: ${f.port}`,
    `  Settings > Go > Debugger > Path mappings (or substitutePath): ${f.modulePath} -> ${f.projectDir}`,
  ];
}

export function debugJson(f: DebugAttachFacts): Record<string, unknown> {
  return {
    debug: {
      host: '127.0.0.1',
      port: f.port,
      delve: f.delve,
      projectDir: f.projectDir,
      modulePath: f.modulePath,
      launch: vscodeLaunch(f),
    },
  };
}
