import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { acquireLock, releaseLocks } from './lock';

describe('site locks', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'podline-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const started = '2026-01-01T00:00:00.000Z';

  it('lets one run in, re-enters for the same run, keeps another live run out', async () => {
    const file = path.join(dir, 'demo.lock');
    expect(await acquireLock(file, { runId: 'a', pid: process.pid, startedAt: started })).toEqual({ acquired: true });
    expect(await acquireLock(file, { runId: 'a', pid: process.pid, startedAt: started })).toEqual({ acquired: true });
    const other = await acquireLock(file, { runId: 'b', pid: process.pid, startedAt: started });
    expect(other).toEqual({ acquired: false, holder: expect.objectContaining({ runId: 'a', pid: process.pid }) });
  });

  it('takes over a lock left by a dead process and says from whom', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const file = path.join(dir, 'demo.lock');
    writeFileSync(file, JSON.stringify({ runId: 'old', pid: dead, host: hostname(), startedAt: started }));
    const res = await acquireLock(file, { runId: 'new', pid: process.pid, startedAt: started });
    expect(res).toEqual({ acquired: true, tookOverFrom: expect.objectContaining({ runId: 'old', pid: dead }) });
    expect(JSON.parse(readFileSync(file, 'utf8')).runId).toBe('new');
  });

  it('releases only the locks of the finished run', async () => {
    await acquireLock(path.join(dir, 'a.lock'), { runId: 'r1', pid: process.pid, startedAt: started });
    await acquireLock(path.join(dir, 'b.lock'), { runId: 'r2', pid: process.pid, startedAt: started });
    expect(await releaseLocks(dir, 'r1')).toEqual(['a']);
    expect(existsSync(path.join(dir, 'a.lock'))).toBe(false);
    expect(existsSync(path.join(dir, 'b.lock'))).toBe(true);
  });
});
