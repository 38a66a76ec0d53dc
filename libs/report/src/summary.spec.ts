import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildRunReport, formatRunReport, readRunRecords, recordTask, taskSeconds, writeRunReport, type TaskRecord } from './index';

const rec = (site: string, target: string, extra: Partial<TaskRecord> = {}): TaskRecord => ({
  site,
  target,
  success: true,
  dryRun: false,
  seconds: 1.5,
  counts: {},
  problems: [],
  ...extra,
});

describe('run report', () => {
  let ws: string;
  beforeEach(() => (ws = mkdtempSync(path.join(tmpdir(), 'podline-report-'))));
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('appends task records per run and reads them back', async () => {
    const env = { PODLINE_RUN_ID: 'run-1', PODLINE_DATA_DIR: 'data' };
    await recordTask(ws, rec('a', 'rss', { counts: { downloaded: 2 } }), env);
    await recordTask(ws, rec('b', 'rss'), env);
    await recordTask(ws, rec('c', 'rss'), { ...env, PODLINE_RUN_ID: 'run-2' });
    const records = await readRunRecords(ws, 'run-1', env);
    expect(records.map((r) => r.site)).toEqual(['a', 'b']);
    expect(records[0].counts).toEqual({ downloaded: 2 });
    expect(await readRunRecords(ws, 'nope', env)).toEqual([]);
  });

  it('joins Nx results with records: one row per site and phase, in pipeline order', () => {
    const report = buildRunReport(
      'r',
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 1, 0, 1),
      [
        { id: 'b:index', project: 'b', target: 'index', status: 'skipped' },
        { id: 'a:transcribe', project: 'a', target: 'transcribe', status: 'local-cache' },
        { id: 'a:rss', project: 'a', target: 'rss', status: 'success' },
        { id: 'b:rss', project: 'b', target: 'rss', status: 'failure' },
        { id: 'tools:test', project: 'tools', target: 'test', status: 'success' },
      ],
      [
        rec('a', 'rss', { counts: { downloaded: 1, failed: 0 } }),
        rec('b', 'rss', { success: false, problems: [{ site: 'b', podcast: 'show', message: 'feed answered 500', fix: 'try later' }, { site: 'b', message: 'line one\nline two' }] }),
        rec('a', 'transcribe', { counts: { transcribed: 5 } }),
      ],
    );
    expect(report.rows.map((r) => `${r.site}:${r.target}:${r.status}`)).toEqual(['a:rss:success', 'a:transcribe:cached', 'b:rss:failure', 'b:index:skipped']);
    // A cached task did nothing this run, whatever an older record says.
    expect(report.rows[1].counts).toBeUndefined();
    expect(report).toMatchObject({ success: false, sites: 2, failed: 1, startedAt: '2026-01-01T00:00:00.000Z' });

    const text = formatRunReport(report, 'data/.reports/latest.json');
    expect(text).toContain('2 site(s), 4 task(s), 1 failed');
    expect(text).toMatch(/a\s+rss\s+success\s+1\.5\s+downloaded=1\n/);
    expect(text).toMatch(/a\s+transcribe\s+cached\s+unchanged \(Nx cache\)/);
    expect(text).toMatch(/b\s+index\s+skipped\s+not run: an earlier phase failed/);
    expect(text).toContain('- b / rss / show: feed answered 500 — try later');
    expect(text).toContain('- b / rss: line one\n  line two\n');
    expect(text).toContain('Report: data/.reports/latest.json');
  });

  it("uses Nx's duration of each task (module loading included) when Nx gives one", () => {
    const report = buildRunReport(
      'r',
      0,
      10_000,
      [
        { id: 'a:transcribe', project: 'a', target: 'transcribe', status: 'success', seconds: 7.26 },
        { id: 'a:upload', project: 'a', target: 'upload', status: 'local-cache', seconds: 0.04 },
        { id: 'a:index', project: 'a', target: 'index', status: 'success' },
      ],
      [rec('a', 'transcribe', { seconds: 0 }), rec('a', 'index', { seconds: 2.5 })],
    );
    expect(report.rows.map((r) => [r.target, r.seconds])).toEqual([
      ['transcribe', 7.3],
      ['upload', 0],
      ['index', 2.5],
    ]);
    expect(formatRunReport(report)).toMatch(/a\s+transcribe\s+success\s+7\.3\s/);
  });

  it('times each task from the end of the phase before it when Nx gives only end times (batch runs)', () => {
    const t0 = 1_000_000;
    const secs = taskSeconds(
      [
        { project: 'a', target: 'pre-sync', endTime: t0 + 11_000 },
        { project: 'a', target: 'check', endTime: t0 + 23_000 },
        { project: 'b', target: 'check', endTime: t0 + 24_500 },
        { project: 'a', target: 'rss', startTime: t0 + 23_500, endTime: t0 + 30_000 },
        { project: 'a', target: 'transcribe' },
      ],
      t0,
    );
    expect(secs).toEqual([11, 12, 24.5, 6.5, undefined]);
  });

  it('writes the JSON report per run and as latest.json', async () => {
    const report = buildRunReport('r9', 0, 1000, [{ id: 'a:rss', project: 'a', target: 'rss', status: 'success' }], [rec('a', 'rss')]);
    const dir = path.join(ws, 'reports');
    const latest = await writeRunReport(dir, report);
    expect(JSON.parse(readFileSync(latest, 'utf8'))).toMatchObject({ runId: 'r9', success: true, rows: [{ site: 'a', status: 'success' }] });
    expect(JSON.parse(readFileSync(path.join(dir, 'runs', 'r9.json'), 'utf8')).runId).toBe('r9');
  });

  it('keeps the records and reports of the newest runs only', async () => {
    const dir = path.join(ws, 'reports');
    mkdirSync(path.join(dir, 'runs'), { recursive: true });
    for (let i = 0; i < 4; i++) {
      for (const ext of ['json', 'jsonl']) {
        const file = path.join(dir, 'runs', `old${i}.${ext}`);
        writeFileSync(file, '{}');
        utimesSync(file, new Date(Date.UTC(2026, 0, 1 + i)), new Date(Date.UTC(2026, 0, 1 + i)));
      }
    }
    const report = buildRunReport('new', 0, 1, [], []);
    await writeRunReport(dir, report, 3);
    expect(readdirSync(path.join(dir, 'runs')).sort()).toEqual(['new.json', 'old2.json', 'old2.jsonl', 'old3.json', 'old3.jsonl']);
  });
});
