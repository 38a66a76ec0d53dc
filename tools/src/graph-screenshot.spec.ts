import { GRAPH_SCREENSHOT_HELP, main } from './graph-screenshot';

// The pictures themselves are redrawn by hand (a browser and `nx graph` take a minute); the command line is checked here.
describe('tools:graph-screenshot', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), cwd: process.cwd() } };
  };

  it('prints its usage for --help and writes nothing', async () => {
    const t = io();
    expect(await main(['--help'], t.io)).toBe(0);
    expect(t.out.join('\n')).toBe(GRAPH_SCREENSHOT_HELP);
  });

  it('refuses an unknown option with the usage and exit code 2', async () => {
    const t = io();
    expect(await main(['--sight=example'], t.io)).toBe(2);
    expect(t.err.join('\n')).toContain('--sight');
    expect(t.err.join('\n')).toContain('Usage:');
  });
});
