import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { scheduleMain, type ScheduleIo } from './schedule';
import { cronMarker, defaultName, defaultSpec, runCommand } from './schedule-core';
import { flockAvailable } from './schedule-install';

/**
 * A stand-in for crontab(1) that keeps the "user's crontab" in a temp file: `-l` prints it (or says there
 * is none, exit 1, like the real one), `-` replaces it from stdin. Every call is logged.
 */
const FAKE_CRONTAB = `#!/bin/sh
store="$1"; shift
echo "$*" >> "$store.calls"
case "$1" in
  -l) if [ -f "$store" ]; then cat "$store"; else echo "no crontab for tester" >&2; exit 1; fi ;;
  -) cat > "$store" ;;
  *) echo "usage" >&2; exit 2 ;;
esac
`;

let tmp: string;
let store: string;
let workspace: string;
let out: string[];
let err: string[];

function io(env: NodeJS.ProcessEnv = {}): ScheduleIo {
  return {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { PODLINE_CRONTAB_CMD: `${path.join(tmp, 'crontab.sh')} ${store}`, ...env },
    cwd: workspace,
    hasFlock: () => true,
  };
}
const crontab = () => (existsSync(store) ? readFileSync(store, 'utf8') : undefined);
const calls = () => readFileSync(`${store}.calls`, 'utf8').trim().split('\n');

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'podline-schedule-'));
  store = path.join(tmp, 'crontab.txt');
  writeFileSync(path.join(tmp, 'crontab.sh'), FAKE_CRONTAB);
  chmodSync(path.join(tmp, 'crontab.sh'), 0o755);
  workspace = path.join(tmp, 'My Checkout');
  mkdirSync(path.join(workspace, 'sites'), { recursive: true });
  writeFileSync(path.join(workspace, 'nx.json'), '{}');
  out = [];
  err = [];
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('cron', () => {
  const others = 'MAILTO=ops@example.org\n# nightly backup\n30 2 * * * /usr/local/bin/backup\n';

  it('prints the entry without touching the crontab', async () => {
    expect(await scheduleMain(['--every=6h'], io())).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(cronMarker({ name: 'my-checkout', workspaceRoot: workspace }));
    expect(text).toContain(`0 */6 * * * cd '${workspace}' && `);
    expect(text).toContain('npx nx run-many -t index >>');
    expect(existsSync(`${store}.calls`)).toBe(false);
  });

  it('installs into an empty crontab, once however often it is run, and uninstalls', async () => {
    expect(await scheduleMain(['--install'], io())).toBe(0);
    const first = crontab()!;
    expect(first.split('\n').filter(Boolean)).toHaveLength(2);
    expect(first).toMatch(/^# podline schedule my-checkout \(.*My Checkout\)/);
    expect(first).toContain(`flock -n '${workspace}/data/.locks/_schedule.lock'`);
    expect(first).toContain(`>> '${workspace}/data/.reports/cron.log' 2>&1`);

    out = [];
    expect(await scheduleMain(['--install'], io())).toBe(0);
    expect(crontab()).toBe(first);
    expect(out.join('\n')).toContain('nothing changed');
    // The second install read the crontab and did not write it.
    expect(calls()).toEqual(['-l', '-', '-l']);

    expect(await scheduleMain(['--uninstall'], io())).toBe(0);
    expect(crontab()).toBe('');
  });

  it('keeps every other line of the crontab exactly', async () => {
    writeFileSync(store, others);
    await scheduleMain(['--install', '--every=15m'], io());
    expect(crontab()!.startsWith(others)).toBe(true);
    expect(crontab()).toContain('\n*/15 * * * * cd ');
    // Changing the interval replaces the entry.
    await scheduleMain(['--install', '--every=1d'], io());
    expect(crontab()!.match(/# podline schedule/g)).toHaveLength(1);
    expect(crontab()).toContain('\n0 0 * * * cd ');
    await scheduleMain(['--uninstall'], io());
    expect(crontab()).toBe(others);
    out = [];
    expect(await scheduleMain(['--uninstall'], io())).toBe(0);
    expect(out.join('\n')).toContain('no entry for this checkout');
  });

  it('--dry-run changes nothing', async () => {
    writeFileSync(store, others);
    await scheduleMain(['--install', '--dry-run'], io());
    expect(out.join('\n')).toContain('would install');
    expect(crontab()).toBe(others);
    await scheduleMain(['--install'], io());
    const installed = crontab();
    await scheduleMain(['--uninstall', '--dry-run'], io());
    expect(crontab()).toBe(installed);
    expect(calls().filter((c) => c === '-')).toHaveLength(1);
  });

  it('takes the crontab command from --crontab-cmd too', async () => {
    const other = path.join(tmp, 'other.txt');
    await scheduleMain(['--install', `--crontab-cmd=${path.join(tmp, 'crontab.sh')} ${other}`], io());
    expect(readFileSync(other, 'utf8')).toContain('# podline schedule');
    expect(crontab()).toBeUndefined();
  });

  it('says clearly when the crontab command fails or is missing', async () => {
    expect(await scheduleMain(['--install'], io({ PODLINE_CRONTAB_CMD: path.join(tmp, 'no-such-crontab') }))).toBe(1);
    expect(err.join('\n')).toMatch(/was not found\. Install cron .* or use --systemd/);
  });

  it('notes when flock is missing and leaves it out', async () => {
    await scheduleMain(['--install'], { ...io(), hasFlock: () => false });
    expect(crontab()).not.toContain('flock');
    expect(err.join('\n')).toContain('flock is not installed');
  });

  it('rejects bad intervals and options with exit 2', async () => {
    expect(await scheduleMain(['--every=2h'], io())).toBe(2);
    expect(err[0]).toBe('schedule: --every=2h is not a supported interval. Use one of: 15m, 1h, 6h, 1d (e.g. --every=1h)');
    expect(await scheduleMain(['--install', '--uninstall'], io())).toBe(2);
    expect(await scheduleMain(['--evry=1h'], io())).toBe(2);
    expect(err.join('\n')).toContain('unknown option --evry');
    expect(existsSync(store)).toBe(false);
  });
});

describe('systemd', () => {
  it('writes the two units, idempotently, prints the systemctl commands, and uninstalls them with the enable link', async () => {
    const unitDir = path.join(tmp, 'units');
    const name = `podline-${defaultName(workspace)}`;
    expect(await scheduleMain(['--systemd', '--install', '--every=1h', `--unit-dir=${unitDir}`], io())).toBe(0);
    const service = readFileSync(path.join(unitDir, `${name}.service`), 'utf8');
    const timer = readFileSync(path.join(unitDir, `${name}.timer`), 'utf8');
    expect(service).toContain('Type=oneshot');
    expect(service).toContain('npx nx run-many -t index');
    expect(timer).toContain('OnCalendar=hourly');
    expect(out.join('\n')).toContain(`systemctl --user enable --now ${name}.timer`);

    out = [];
    await scheduleMain(['--systemd', '--install', '--every=1h', `--unit-dir=${unitDir}`], io());
    expect(out.join('\n')).toContain('already installed');

    // What `systemctl --user enable` does: a link in timers.target.wants.
    mkdirSync(path.join(unitDir, 'timers.target.wants'));
    symlinkSync(path.join(unitDir, `${name}.timer`), path.join(unitDir, 'timers.target.wants', `${name}.timer`));
    writeFileSync(path.join(unitDir, 'someone-else.timer'), 'x');

    out = [];
    await scheduleMain(['--systemd', '--uninstall', '--dry-run', `--unit-dir=${unitDir}`], io());
    expect(out.filter((l) => l.startsWith('would remove'))).toHaveLength(3);
    expect(existsSync(path.join(unitDir, `${name}.service`))).toBe(true);

    out = [];
    await scheduleMain(['--systemd', '--uninstall', `--unit-dir=${unitDir}`], io());
    expect(existsSync(path.join(unitDir, `${name}.service`))).toBe(false);
    expect(existsSync(path.join(unitDir, `${name}.timer`))).toBe(false);
    expect(existsSync(path.join(unitDir, 'timers.target.wants', `${name}.timer`))).toBe(false);
    expect(existsSync(path.join(unitDir, 'someone-else.timer'))).toBe(true);
    expect(out.join('\n')).toContain(`systemctl --user stop ${name}.timer`);
    // The crontab was never touched.
    expect(existsSync(`${store}.calls`)).toBe(false);
  });

  it('--dry-run prints the units and writes nothing', async () => {
    const unitDir = path.join(tmp, 'units');
    await scheduleMain(['--systemd', '--install', '--dry-run', '--every=1d', `--unit-dir=${unitDir}`], io());
    expect(out.join('\n')).toContain('OnCalendar=daily');
    expect(out.join('\n')).toContain('would write');
    expect(existsSync(unitDir)).toBe(false);
  });

  it('defaults to the user unit folder under XDG_CONFIG_HOME', async () => {
    await scheduleMain(['--systemd', '--install'], io({ XDG_CONFIG_HOME: path.join(tmp, 'xdg') }));
    expect(existsSync(path.join(tmp, 'xdg', 'systemd', 'user', 'podline-my-checkout.timer'))).toBe(true);
  });
});

describe('launchd', () => {
  it('writes the agent once, prints the launchctl command, removes it', async () => {
    const dir = path.join(tmp, 'agents');
    const plist = path.join(dir, 'org.podline.my-checkout.plist');
    expect(await scheduleMain(['--launchd', '--install', '--every=15m', `--unit-dir=${dir}`], io())).toBe(0);
    expect(readFileSync(plist, 'utf8')).toContain('<integer>900</integer>');
    expect(out.join('\n')).toContain(`launchctl bootstrap gui/$(id -u) ${plist}`);
    out = [];
    await scheduleMain(['--launchd', '--install', '--every=15m', `--unit-dir=${dir}`], io());
    expect(out.join('\n')).toContain('already installed');
    out = [];
    await scheduleMain(['--launchd', '--uninstall', `--unit-dir=${dir}`], io());
    expect(existsSync(plist)).toBe(false);
    expect(out.join('\n')).toContain('launchctl bootout gui/$(id -u)/org.podline.my-checkout');
  });

  it('cannot be combined with --systemd', async () => {
    expect(await scheduleMain(['--launchd', '--systemd'], io())).toBe(2);
    expect(err[0]).toContain('--systemd and --launchd cannot be used together');
  });
});

describe('the scheduled command, really run by /bin/sh', () => {
  const hasFlock = flockAvailable();

  /** An npx that logs its cwd, NX_DAEMON and arguments, prints a line (for the log file), and waits for the file $FAKE_NPX_WAIT_FOR when set. */
  function fakeNpxDir(): string {
    const bin = path.join(tmp, 'fake bin');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'npx'),
      `#!/bin/sh\necho "$(pwd)|$NX_DAEMON|$PODLINE_DATA_DIR|$*" >> '${path.join(tmp, 'npx.calls')}'\necho "nx output line"\nif [ -n "$FAKE_NPX_WAIT_FOR" ]; then while [ ! -f "$FAKE_NPX_WAIT_FOR" ]; do sleep 0.05; done; fi\nexit 0\n`,
    );
    chmodSync(path.join(bin, 'npx'), 0o755);
    return bin;
  }

  function command(useFlock: boolean, env: NodeJS.ProcessEnv = {}): string {
    return runCommand(defaultSpec(workspace, '1h', { useFlock, pathEnv: `${fakeNpxDir()}:/usr/bin:/bin`, env }));
  }

  it('runs nx run-many -t index from the workspace root with NX_DAEMON=false, creating the log folder and appending to the log', () => {
    const cmd = command(hasFlock, { PODLINE_DATA_DIR: 'my data' });
    // From anywhere: cron starts in the home folder.
    for (let i = 0; i < 2; i++) expect(spawnSync('/bin/sh', ['-c', cmd], { cwd: tmp, env: {} }).status).toBe(0);
    expect(readFileSync(path.join(tmp, 'npx.calls'), 'utf8')).toBe(`${workspace}|false|${workspace}/my data|nx run-many -t index\n`.repeat(2));
    expect(readFileSync(path.join(workspace, 'my data', '.reports', 'cron.log'), 'utf8')).toBe('nx output line\n'.repeat(2));
  });

  (hasFlock ? it : it.skip)('a run started while the previous one holds the lock does nothing (flock -n)', async () => {
    const cmd = command(true);
    const release = path.join(tmp, 'release');
    const first = spawn('/bin/sh', ['-c', cmd], { env: { FAKE_NPX_WAIT_FOR: release } });
    const exited = new Promise<number | null>((resolve) => first.on('exit', resolve));
    // Wait until the first run is inside nx (it has logged its call), so it holds the lock.
    while (!existsSync(path.join(tmp, 'npx.calls'))) await new Promise((r) => setTimeout(r, 20));
    const second = spawnSync('/bin/sh', ['-c', cmd], { env: {} });
    expect(second.status).toBe(1);
    writeFileSync(release, '');
    expect(await exited).toBe(0);
    expect(readFileSync(path.join(tmp, 'npx.calls'), 'utf8').trim().split('\n')).toHaveLength(1);
    // Once the first run ended, the next one runs.
    expect(spawnSync('/bin/sh', ['-c', cmd], { env: {} }).status).toBe(0);
    expect(readFileSync(path.join(tmp, 'npx.calls'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
