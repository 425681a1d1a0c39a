// Writes the generated parts of docs/: each command's usage, flag table and examples on its
// page under docs/commands/, read from the commander definitions of the built CLI.
// `node scripts/docs.mjs --check` changes nothing and exits 1 when a page is stale
// (test/docs.test.ts makes the same check in the suite).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { buildProgram } = await import(`${root}dist/cli/program.js`);
const { commandReference, withReference } = await import(`${root}dist/cli/reference.js`);

const check = process.argv.includes('--check');
const byPage = new Map();
for (const ref of commandReference(buildProgram())) byPage.set(ref.page, [...(byPage.get(ref.page) ?? []), ref]);
let stale = 0;
for (const [page, refs] of byPage) {
  const file = `${root}docs/commands/${page}`;
  const before = existsSync(file) ? readFileSync(file, 'utf8') : `# \`lambda-image ${refs[0].path.split(' ')[0]}\`\n`;
  const after = withReference(before, refs);
  if (after === before) continue;
  stale++;
  if (check) console.error(`docs/commands/${page} is stale: run npm run docs`);
  else writeFileSync(file, after);
}
if (check && stale) process.exit(1);
if (!check) console.error(`docs: ${byPage.size} command pages, ${stale} updated`);
