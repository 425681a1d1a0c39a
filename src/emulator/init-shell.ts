// The init shell: how Lambda starts extensions before the runtime, done by a shell as the
// container's first process, and how its output is read back (function lines, extension
// lines, the runtime's exit). Pure: the container spec and the sandbox use both halves.

/**
 * Every executable in /opt/extensions, each one's output marked with its name (so its lines
 * are told from the function's), then the runtime. SIGTERM is forwarded to the runtime; when
 * the runtime exits, its status is announced and the extensions live on until their
 * SHUTDOWN, as on Lambda.
 */
export const MARK = '\u001e';
export const EXTENSIONS_INIT = [
  'for f in /opt/extensions/*; do',
  '  if [ -f "$f" ] && [ -x "$f" ]; then',
  '    n=${f##*/}',
  `    { "$f" 2>&1; } | while IFS= read -r l || [ -n "$l" ]; do printf '\\036%s\\036%s\\n' "$n" "$l"; done &`,
  '  fi',
  'done',
  '"$@" &',
  'rt=$!',
  "trap 'kill -TERM $rt 2>/dev/null' TERM",
  'while :; do wait $rt; code=$?; kill -0 $rt 2>/dev/null || break; done',
  // No newline first: a last line the runtime left unterminated is split off the marker here.
  `printf '\\036\\036runtime-exit %s\\n' "$code"`,
  'wait',
  'exit $code',
].join('\n');

/** The shell's name in the process list ($0). */
export const INIT_SHELL_NAME = 'lambda-image-init';

export type OutputLine = { kind: 'function' | 'extension'; text: string };

/**
 * Reads one line of a container's output under the init shell's marks: extension lines come
 * as MARK name MARK text, the runtime's exit as MARK MARK "runtime-exit" status; anything else
 * is the function's. The runtime writes unmarked to the same stream, so a last line it left
 * without a newline arrives glued to the mark that follows it, and is split off here.
 */
export function parseOutputLine(raw: string): { lines: OutputLine[]; runtimeExit?: number } {
  const exitAt = raw.indexOf(`${MARK}${MARK}runtime-exit `);
  if (exitAt >= 0) {
    const before = raw.slice(0, exitAt);
    return { lines: before ? [{ kind: 'function', text: before }] : [], runtimeExit: Number(raw.slice(exitAt + 15)) };
  }
  const at = raw.indexOf(MARK);
  const end = at >= 0 ? raw.indexOf(MARK, at + 1) : -1;
  if (end > at + 1) {
    const lines: OutputLine[] = [];
    if (at > 0) lines.push({ kind: 'function', text: raw.slice(0, at) });
    lines.push({ kind: 'extension', text: raw.slice(end + 1) });
    return { lines };
  }
  return { lines: [{ kind: 'function', text: raw }] };
}
