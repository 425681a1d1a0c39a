// Lambda's platform log lines (START, END, REPORT, INIT_REPORT, the timeout line) and the
// duration summary of repeated invokes. Pure formatting.

export interface ReportFacts {
  requestId: string;
  durationMs: number;
  memoryMb: number;
  maxMemoryMb?: number;
  /** Cold invokes only. */
  initMs?: number;
  status?: 'timeout' | 'error';
  /** Under --debug: how long the debugger held the function (not counted against its timeout). */
  pausedMs?: number;
  errorType?: string;
}

export const startLine = (requestId: string) => `START RequestId: ${requestId} Version: $LATEST`;
export const endLine = (requestId: string) => `END RequestId: ${requestId}`;

/** Lambda bills the init phase too (since August 2025), in whole milliseconds. */
export function billedMs(durationMs: number, initMs = 0): number {
  return Math.ceil(durationMs + initMs);
}

export function reportLine(f: ReportFacts): string {
  const parts = [
    `REPORT RequestId: ${f.requestId}`,
    `Duration: ${f.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${billedMs(f.durationMs, f.initMs)} ms`,
    `Memory Size: ${f.memoryMb} MB`,
    `Max Memory Used: ${f.maxMemoryMb === undefined ? '-' : f.maxMemoryMb} MB`,
  ];
  if (f.initMs !== undefined) parts.push(`Init Duration: ${f.initMs.toFixed(2)} ms`);
  if (f.pausedMs !== undefined) parts.push(`Debugger Paused: ${f.pausedMs.toFixed(2)} ms`);
  if (f.status) parts.push(`Status: ${f.status}`);
  if (f.errorType) parts.push(`Error Type: ${f.errorType}`);
  return parts.join('\t') + '\t';
}

export function initReportLine(initMs: number, status: 'error' | 'timeout', errorType?: string): string {
  return [
    `INIT_REPORT Init Duration: ${initMs.toFixed(2)} ms`,
    'Phase: init',
    `Status: ${status}`,
    ...(errorType ? [`Error Type: ${errorType}`] : []),
  ].join('\t');
}

export function timeoutMessage(requestId: string, timeoutSec: number, at = new Date()): string {
  return `${at.toISOString()} ${requestId} Task timed out after ${timeoutSec.toFixed(2)} seconds`;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface DurationSummary {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export function summarize(durations: number[]): DurationSummary | undefined {
  if (!durations.length) return undefined;
  const s = [...durations].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p95: percentile(s, 95), max: s[s.length - 1]! };
}
