// `lambda-image doctor`: wiring and output only; the checks are data in src/app/doctor.ts.
import { runDoctor } from '../app/doctor.js';
import { LambdaImageError } from '../errors.js';
import { createUi } from '../ui.js';

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' } as const;

export async function runDoctorCommand(dir: string, opts: { json?: boolean }): Promise<void> {
  const ui = createUi();
  const report = await runDoctor({ dir });
  if (opts.json) ui.out(JSON.stringify(report, null, 2));
  else
    for (const f of report.findings) {
      ui.out(`${MARK[f.status]}  ${f.check}: ${f.detail}`);
      if (f.fix && (f.status === 'warn' || f.status === 'fail')) ui.out(`      fix: ${f.fix}`);
    }
  const failing = report.findings.filter((f) => f.status === 'fail');
  if (failing.length)
    throw new LambdaImageError(
      'CHECK_FAILED',
      `${failing.map((f) => f.check).join(', ')}: stops ${[...new Set(failing.flatMap((f) => f.needs))].join(', ')}`,
      { hint: 'each FAIL line above says how to fix it' },
    );
}
