// Untrusted text (config keys, AWS and registry error bodies, layer names, a function's words
// in an error) made safe for a terminal: control characters and the invisible Unicode that
// reorders or hides text are shown as escapes, so nothing printed can move the cursor,
// retitle the window, forge a line or hide what follows.

// C0 controls (tab kept), DEL, C1 controls, zero-width and bidirectional controls, BOM, separators.
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const UNPRINTABLE_BUT_NEWLINE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`);
}

/** One line of untrusted text, safe to print: every control character (newlines too) escaped. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

/** Text of several lines, safe to print: the line breaks kept, every other control character escaped. */
export function printableLines(text: string): string {
  return text.replace(UNPRINTABLE_BUT_NEWLINE, escapeChar);
}
