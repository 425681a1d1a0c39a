// The attach settings printed by --debug: VS Code's remote attach with substitutePath from the
// project's folder to the module path compiled in by -trimpath.
import { describe, expect, it } from 'vitest';
import { debugJson, golandSettings, vscodeLaunch } from '../src/app/debug-launch.js';

const facts = { port: 2345, projectDir: '/home/me/fn', modulePath: 'example.com/fn', delve: 'v1.21.2' };

describe('debug attach settings', () => {
  it('VS Code: attach, remote, 127.0.0.1, substitutePath folder -> module', () => {
    expect(vscodeLaunch(facts)).toMatchObject({
      request: 'attach',
      mode: 'remote',
      host: '127.0.0.1',
      port: 2345,
      substitutePath: [{ from: '/home/me/fn', to: 'example.com/fn' }],
    });
  });
  it('GoLand and --json name the same port and paths', () => {
    expect(golandSettings(facts).join('\n')).toContain('Port: 2345');
    expect(golandSettings(facts).join('\n')).toContain('example.com/fn -> /home/me/fn');
    expect(debugJson(facts)).toMatchObject({ debug: { port: 2345, delve: 'v1.21.2', modulePath: 'example.com/fn' } });
  });
});
