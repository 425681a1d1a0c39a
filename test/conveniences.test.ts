// The conveniences of a CLI people live in: shell completion (answered from the commander
// definitions and the project's functions, loaded by real bash, zsh and fish), examples at the
// end of --help, colour and progress that follow NO_COLOR / FORCE_COLOR / a non-TTY stderr, --quiet.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeWords, completionScript, FILES } from '../src/cli/completion.js';
import { buildProgram } from '../src/cli/program.js';
import { colourEnabled, spinnersEnabled } from '../src/ui.js';
import { BIN, runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sources = { functionNames: async () => ['orders', 'users'] };
const complete = (line: string) => completeWords(buildProgram(), line.split(' '), sources);

describe('completion candidates', () => {
  it('commands, subcommands, flags of the command typed, and choices of the flag before the cursor', async () => {
    expect(await complete('')).toEqual(
      expect.arrayContaining(['init', 'build', 'invoke', 'start', 'ci', 'completion']),
    );
    expect(await complete('bu')).toEqual(['build']);
    expect(await complete('ci ')).toEqual(['github']);
    expect(await complete('extensions r')).toEqual(['remove']);
    expect(await complete('build --var')).toEqual(['--variant', '--variants']);
    expect(await complete('start --http-event ')).toEqual(['url', 'http-api', 'rest-api']);
    expect(await complete('init --base a')).toEqual(['aws', 'alpine']);
    // The word after a flag that takes a value is that value, not a command.
    expect(await complete('start --port 9000 --pre')).toEqual(['--prewarm']);
  });

  it("--function completes the project's function names; --variants each item of its list", async () => {
    expect(await complete('deploy --function ')).toEqual(['orders', 'users']);
    expect(await complete('build --function o')).toEqual(['orders']);
    expect(await complete('build --variants aws,')).toEqual(['aws,alpine', 'aws,alpine-rie']);
  });

  it('asks the shell for file names where a path goes', async () => {
    expect(await complete('init --binary ')).toEqual([FILES]);
    expect(await complete('build ')).toEqual([FILES]);
  });
});

/** A folder holding a project of two functions and a PATH whose lambda-image is this checkout's. */
function shellFixture(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tmpDir();
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(BIN, path.join(bin, 'lambda-image'));
  symlinkSync(process.execPath, path.join(bin, 'node'));
  writeFileSync(
    path.join(dir, 'lambda-image.json'),
    JSON.stringify({ name: 'shop', functions: { orders: { main: 'cmd/orders' }, users: { main: 'cmd/users' } } }),
  );
  return { dir, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } };
}

const shellTest = (shell: string) => (has(shell) || process.env.CI ? it : it.skip);

describe('completion scripts in real shells', () => {
  shellTest('bash')('bash: commands, flags and the project function names', () => {
    const { dir, env } = shellFixture();
    const run = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source <(lambda-image completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _lambda_image_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { cwd: dir, env, encoding: 'utf8' },
      )
        .split('\n')
        .filter(Boolean);
    expect(run(['lambda-image', 'sta'])).toEqual(['start']);
    expect(run(['lambda-image', 'invoke', '--function', ''])).toEqual(['orders', 'users']);
    expect(run(['lambda-image', 'start', '--http-event', 'r'])).toEqual(['rest-api']);
    expect(run(['lambda-image', 'build', ''])).toContain('lambda-image.json');
  });

  shellTest('zsh')('zsh: the script parses, and its function offers what __complete answers', () => {
    const { dir, env } = shellFixture();
    const script = path.join(dir, '_lambda-image');
    writeFileSync(script, completionScript('zsh'));
    expect(spawnSync('zsh', ['-n', script]).status).toBe(0);
    const out = execFileSync(
      'zsh',
      [
        '-c',
        `compdef() { :; }; compadd() { shift; print -l -- "$@"; }; _files() { print FILES; }
source ${script}; words=(lambda-image deploy --function ''); CURRENT=4; _lambda_image`,
      ],
      { cwd: dir, env, encoding: 'utf8' },
    );
    expect(out.split('\n').filter(Boolean)).toEqual(['orders', 'users']);
  });

  shellTest('fish')('fish: complete -C gives the flags and function names', () => {
    const { dir, env } = shellFixture();
    const script = path.join(dir, 'lambda-image.fish');
    writeFileSync(script, completionScript('fish'));
    const out = (line: string) =>
      execFileSync('fish', ['--no-config', '-c', `source ${script}; complete -C '${line}'`], {
        cwd: dir,
        env,
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(out('lambda-image push --function u')).toEqual(['users']);
    expect(out('lambda-image start --wat')).toEqual(['--watch']);
  });
});

describe('help, colour, progress and --quiet', () => {
  it('every command ends its --help with examples', async () => {
    const r = await runCli(['start', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd()).toMatch(/Examples:\n( {2}\$ lambda-image start.*\n?){2,3}$/);
  });

  it('colour follows FORCE_COLOR, NO_COLOR, TERM=dumb and the terminal; spinners never in CI or a pipe', () => {
    expect(colourEnabled({}, true)).toBe(true);
    expect(colourEnabled({}, false)).toBe(false);
    expect(colourEnabled({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colourEnabled({ NO_COLOR: '' }, true)).toBe(true);
    expect(colourEnabled({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colourEnabled({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colourEnabled({ TERM: 'dumb' }, true)).toBe(false);
    expect(spinnersEnabled({}, true)).toBe(true);
    expect(spinnersEnabled({ CI: 'true' }, true)).toBe(false);
    expect(spinnersEnabled({}, false)).toBe(false);
  });

  it('an error line is coloured with FORCE_COLOR and plain with NO_COLOR or a pipe', async () => {
    const forced = await runCli(['init', '/nonexistent-li'], { env: { FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain('\u001b[31merror:\u001b[0m');
    const plain = await runCli(['init', '/nonexistent-li'], { env: { NO_COLOR: '1', FORCE_COLOR: undefined } });
    expect(plain.stderr).toMatch(/^error: /);
    expect(plain.stderr).not.toContain('\u001b');
  });

  it('--quiet keeps results and errors, drops progress', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'go.mod'), 'module example.com/q\n\ngo 1.23\n');
    writeFileSync(path.join(dir, 'main.go'), 'package main\n\nfunc main() {}\n');
    const loud = await runCli(['init', dir, '--dry-run']);
    const quiet = await runCli(['init', dir, '--dry-run', '--quiet']);
    expect(loud.code).toBe(0);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe(loud.stdout);
    expect(quiet.stderr.length).toBeLessThan(loud.stderr.length);
  });
});
