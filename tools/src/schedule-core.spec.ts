import {
  addCronEntry,
  cronEntry,
  cronExpression,
  cronMarker,
  defaultName,
  defaultSpec,
  launchdPlist,
  parseInterval,
  removeCronEntry,
  runCommand,
  systemdUnits,
  type ScheduleSpec,
} from './schedule-core';
import { UsageError } from './args';

const root = '/srv/podline prod';
function spec(over: Partial<ScheduleSpec> = {}): ScheduleSpec {
  return {
    ...defaultSpec(root, '1h', { useFlock: true, pathEnv: '/opt/node/bin:/usr/bin:/bin:/usr/bin', env: {} }),
    ...over,
  };
}

describe('intervals', () => {
  it.each([
    ['15m', '*/15 * * * *'],
    ['1h', '0 * * * *'],
    ['6h', '0 */6 * * *'],
    ['1d', '0 0 * * *'],
  ])('%s -> %s', (every, cron) => {
    expect(cronExpression(parseInterval(every))).toBe(cron);
  });

  it.each(['2h', '1m', '', '60m', 'hourly', '1H'])('rejects %j, naming the accepted intervals', (every) => {
    expect(() => parseInterval(every)).toThrow(UsageError);
    expect(() => parseInterval(every)).toThrow(/15m, 1h, 6h, 1d/);
  });
});

describe('the scheduled command', () => {
  it('runs nx run-many -t index from the workspace root, under flock, appending to the log in the reports folder', () => {
    const cmd = runCommand(spec());
    expect(cmd).toBe(
      "cd '/srv/podline prod' && mkdir -p '/srv/podline prod/data/.reports' '/srv/podline prod/data/.locks' && " +
        "flock -n '/srv/podline prod/data/.locks/_schedule.lock' env NX_DAEMON=false PATH=/opt/node/bin:/usr/bin:/bin " +
        "npx nx run-many -t index >> '/srv/podline prod/data/.reports/cron.log' 2>&1",
    );
  });

  it('leaves flock out when asked (or when it is not installed)', () => {
    const cmd = runCommand(spec({ useFlock: false }));
    expect(cmd).not.toContain('flock');
    expect(cmd).toContain('env NX_DAEMON=false');
  });

  it('carries PODLINE_DATA_DIR into the job, resolved against the workspace, and puts the log and lock there', () => {
    const s = defaultSpec(root, '1h', { useFlock: true, pathEnv: '/usr/bin', env: { PODLINE_DATA_DIR: 'elsewhere' } });
    const cmd = runCommand(s);
    expect(cmd).toContain("'PODLINE_DATA_DIR=/srv/podline prod/elsewhere' npx nx");
    expect(s.logFile).toBe('/srv/podline prod/elsewhere/.reports/cron.log');
    expect(s.lockFile).toBe('/srv/podline prod/elsewhere/.locks/_schedule.lock');
  });

  it('escapes % for cron (an unescaped % ends the command)', () => {
    const [, line] = cronEntry(spec({ workspaceRoot: '/srv/100%', logFile: '/srv/100%/log' }));
    expect(line).toMatch(/^0 \* \* \* \* cd \/srv\/100\\%/);
    expect(line).not.toMatch(/[^\\]%/);
  });

  it('derives a unit-safe name from the checkout folder', () => {
    expect(defaultName('/srv/Podline Prod')).toBe('podline-prod');
    expect(defaultName('/')).toBe('workspace');
    expect(() => defaultSpec(root, '1h', { name: 'Bad Name', useFlock: false, pathEnv: '', env: {} })).toThrow(/--name=Bad Name/);
  });
});

describe('crontab editing', () => {
  const others = '# my jobs\nMAILTO=me@example.org\n*/5 * * * * /usr/local/bin/backup --quiet\n\n@reboot echo hi\n';

  it('adds the marker and the entry after every other line, unchanged', () => {
    const after = addCronEntry(others, spec());
    expect(after.startsWith(others)).toBe(true);
    expect(after.slice(others.length)).toBe(cronEntry(spec()).join('\n') + '\n');
  });

  it('is idempotent: adding twice gives one entry', () => {
    const once = addCronEntry(others, spec());
    expect(addCronEntry(once, spec())).toBe(once);
    expect(once.split('\n').filter((l) => l === cronMarker(spec()))).toHaveLength(1);
  });

  it('replaces the entry when the interval changes', () => {
    const hourly = addCronEntry(others, spec());
    const daily = addCronEntry(hourly, spec({ every: '1d' }));
    expect(daily).toBe(addCronEntry(others, spec({ every: '1d' })));
    expect(daily).not.toContain('0 * * * * ');
  });

  it('removing restores the crontab exactly, and keeps entries of other checkouts', () => {
    const other = spec({ workspaceRoot: '/srv/other', name: 'other' });
    const both = addCronEntry(addCronEntry(others, other), spec());
    expect(removeCronEntry(both, spec())).toBe(addCronEntry(others, other));
    expect(removeCronEntry(removeCronEntry(both, spec()), other)).toBe(others);
  });

  it('handles an empty crontab and one without a final newline', () => {
    expect(removeCronEntry(addCronEntry('', spec()), spec())).toBe('');
    expect(addCronEntry('@reboot x', spec()).startsWith('@reboot x\n# podline schedule')).toBe(true);
  });
});

describe('systemd units', () => {
  it('a oneshot service running the same command and a persistent timer', () => {
    const units = systemdUnits(spec({ every: '15m', workspaceRoot: '/srv/p', logFile: '/srv/p/data/.reports/cron.log', lockFile: '/srv/p/data/.locks/_schedule.lock' }));
    expect(units.service.file).toBe('podline-podline-prod.service');
    expect(units.timer.file).toBe('podline-podline-prod.timer');
    expect(units.service.text).toBe(
      [
        '[Unit]',
        'Description=Podline pipeline (nx run-many -t index) for /srv/p',
        '',
        '[Service]',
        'Type=oneshot',
        'ExecStart=/bin/sh -c "cd /srv/p && mkdir -p /srv/p/data/.reports /srv/p/data/.locks && flock -n /srv/p/data/.locks/_schedule.lock env NX_DAEMON=false PATH=/opt/node/bin:/usr/bin:/bin npx nx run-many -t index >> /srv/p/data/.reports/cron.log 2>&1"',
        '',
      ].join('\n'),
    );
    expect(units.timer.text).toContain('OnCalendar=*:0/15\n');
    expect(units.timer.text).toContain('Persistent=true\n');
    expect(units.timer.text).toContain('Unit=podline-podline-prod.service\n');
    expect(units.timer.text).toContain('[Install]\nWantedBy=timers.target\n');
  });

  it.each([
    ['1h', 'hourly'],
    ['6h', '0/6:00'],
    ['1d', 'daily'],
  ] as const)('%s -> OnCalendar=%s', (every, cal) => {
    expect(systemdUnits(spec({ every })).timer.text).toContain(`OnCalendar=${cal}\n`);
  });

  it('escapes % and $ (systemd specifiers and variables) and quotes', () => {
    const text = systemdUnits(spec({ workspaceRoot: '/srv/a%b$c"d' })).service.text;
    expect(text).toContain('cd \'/srv/a%%b$$c\\"d\'');
  });
});

describe('launchd agent', () => {
  it('runs the same command through /bin/sh every interval, XML-escaped', () => {
    const plist = launchdPlist(spec({ every: '6h', workspaceRoot: '/srv/a&b', logFile: '/srv/a&b/log', lockFile: '/srv/a&b/lock', useFlock: false }));
    expect(plist.file).toBe('org.podline.podline-prod.plist');
    expect(plist.text).toContain('<key>Label</key><string>org.podline.podline-prod</string>');
    expect(plist.text).toContain('<key>StartInterval</key><integer>21600</integer>');
    expect(plist.text).toContain(
      "<string>cd '/srv/a&amp;b' &amp;&amp; mkdir -p '/srv/a&amp;b' &amp;&amp; env NX_DAEMON=false PATH=/opt/node/bin:/usr/bin:/bin npx nx run-many -t index &gt;&gt; '/srv/a&amp;b/log' 2&gt;&amp;1</string>",
    );
    expect(plist.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')).toBe(true);
  });
});
