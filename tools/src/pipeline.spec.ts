import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pipelineMain, type PipelineIo } from './pipeline';
import { makeWorkspace, scriptedAsk } from './pipeline-fixture';
import { listSites, readTargetPrefix } from './pipeline-workspace';

const SYNC = { 'pre-sync': ['conflict', 'folders'], check: ['folders'], upload: ['conflict', 'folders'] };

let root: string;
let out: string[];
let err: string[];
beforeEach(() => {
  root = makeWorkspace(SYNC);
  out = [];
  err = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function io(over: Partial<PipelineIo> = {}): PipelineIo {
  return { out: (l) => out.push(l), err: (l) => err.push(l), env: process.env, cwd: path.join(root, 'sites'), isTTY: false, ...over };
}
/** The printed command, on one line. */
const printed = () => out.join('\n').replace(/^The nx commands?:\n\s+/, '').replace(/ \\\n\s+/g, ' ');

describe('the workspace', () => {
  it('lists sites by folder name, nested ones too, flagging a broken config', () => {
    const sites = listSites(root);
    expect(sites.map((s) => s.id)).toEqual(['alpha', 'beta', 'gamma']);
    expect(sites[0]).toEqual({ id: 'alpha', title: 'Site alpha', problems: undefined });
    expect(sites[2].problems).toMatch(/sites\/gamma\/site.config.json: is not valid JSON/);
  });

  it('reads the plugin target prefix from nx.json', () => {
    expect(readTargetPrefix(root)).toBe('');
    const prefixed = makeWorkspace({}, 'podline-');
    expect(readTargetPrefix(prefixed)).toBe('podline-');
    rmSync(prefixed, { recursive: true, force: true });
  });
});

describe('interactive', () => {
  it('refuses without a terminal, telling the flags to use', async () => {
    expect(await pipelineMain(['--interactive'], io({ isTTY: false }))).toBe(2);
    const msg = err.join('\n');
    expect(msg).toContain('--interactive needs a terminal');
    expect(msg).toContain('npx nx run tools:pipeline --sites=<a,b> --phase=index --dry-run --conflict=skip-existing --folders=rss,audio');
    expect(out).toEqual([]);
  });

  it('asks sites, phase, scope, dry run, conflict and folders, and shows the equivalent command', async () => {
    const asked: string[] = [];
    const ask = scriptedAsk(
      {
        sites: ['down', 'space'], // beta
        phase: ['up'], // upload
        scope: [], // the chain
        dryRun: ['y'],
        conflict: ['down'], // overwrite-if-newer
        folders: ['down', 'space', 'down', 'down', 'down', 'down', 'space'], // not audio, not search-index (web stays)
      },
      asked,
    );
    expect(await pipelineMain(['--interactive', '--print-only'], io({ ask }))).toBe(0);
    expect(asked).toEqual(['sites', 'phase', 'scope', 'dryRun', 'conflict', 'folders']);
    expect(printed()).toBe(
      [
        'npx nx run-many -t pre-sync --projects=beta --skip-nx-cache --dryRun --conflict=overwrite-if-newer --folders=rss,transcripts,episode-manifest,search-entries,web &&',
        'npx nx run-many -t check --projects=beta --exclude-task-dependencies --skip-nx-cache --dryRun --folders=rss,transcripts,episode-manifest,search-entries,web &&',
        'npx nx run-many -t rss transcribe --projects=beta --exclude-task-dependencies --skip-nx-cache --dryRun &&',
        'npx nx run-many -t upload --projects=beta --exclude-task-dependencies --skip-nx-cache --dryRun --conflict=overwrite-if-newer --folders=rss,transcripts,episode-manifest,search-entries,web',
      ].join(' '),
    );
  });

  it('the defaults (all sites, index, no dry run, every folder) give the plain cron command', async () => {
    const ask = scriptedAsk({ sites: ['a'], phase: [], scope: [], dryRun: [], conflict: [], folders: [] });
    expect(await pipelineMain(['--interactive', '--print-only'], io({ ask }))).toBe(0);
    expect(printed()).toBe('npx nx run-many -t index');
  });

  it('a single phase without sync options asks no conflict/folders questions', async () => {
    const asked: string[] = [];
    const ask = scriptedAsk({ sites: ['space'], phase: ['up', 'up'], scope: ['down'], dryRun: ['n'] }, asked);
    expect(await pipelineMain(['--interactive', '--print-only'], io({ ask }))).toBe(0);
    expect(asked).toEqual(['sites', 'phase', 'scope', 'dryRun']);
    expect(printed()).toBe('npx nx run-many -t transcribe --projects=alpha --exclude-task-dependencies --skip-nx-cache');
  });

  it('does not run when the confirmation is declined', async () => {
    const ask = scriptedAsk({ sites: ['space'], phase: [], scope: ['down'], dryRun: [], run: ['n'] });
    expect(await pipelineMain(['--interactive'], io({ ask }))).toBe(0);
    expect(out[out.length - 1]).toBe('Not run.');
  });

  it('Ctrl+C at any question ends without running anything', async () => {
    const ask = scriptedAsk({ sites: ['space'], phase: ['cancel'] });
    expect(await pipelineMain(['--interactive'], io({ ask, env: { PATH: '' } }))).toBe(130);
    expect(err).toEqual(['Cancelled; nothing was run.']);
    expect(out).toEqual([]);
  });

  it('takes no other flags', async () => {
    expect(await pipelineMain(['--interactive', '--dry-run'], io({ ask: scriptedAsk({}) }))).toBe(2);
    expect(err[0]).toContain('--interactive asks for everything; leave out --dryRun');
  });
});

describe('flags', () => {
  it('--sites, --phase, --dry-run, --conflict, --folders', async () => {
    expect(await pipelineMain(['--sites=alpha,beta', '--phase=check', '--dry-run', '--folders=audio', '--print-only'], io())).toBe(0);
    expect(printed()).toBe('npx nx run-many -t pre-sync check --projects=alpha,beta --skip-nx-cache --dryRun --folders=audio');
  });

  it('camelCase flags as Nx forwards them, and the aliases --projects and --target', async () => {
    expect(await pipelineMain(['--projects=beta', '--dryRun', '--printOnly', '--target', 'rss'], io())).toBe(0);
    expect(printed()).toBe('npx nx run-many -t pre-sync check rss --projects=beta --skip-nx-cache --dryRun');
  });

  it('--debug (which nx forwards, unlike --verbose) and --verbose turn on debug logging', async () => {
    await pipelineMain(['--debug', '--print-only'], io());
    await pipelineMain(['--verbose', '--target=rss', '--print-only'], io());
    expect(out.map((l) => l.split('\n')[1])).toEqual(['  LOG_LEVEL=debug npx nx run-many -t index', '  LOG_LEVEL=debug npx nx run-many -t rss']);
  });

  it('--only and --skip-<phase> narrow the chain', async () => {
    await pipelineMain(['--phase=upload', '--only', '--print-only'], io());
    await pipelineMain(['--skip-pre-sync', '--skip-check', '--skip-index', '--print-only'], io());
    expect(out.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('  '))).toEqual([
      '  npx nx run-many -t upload --exclude-task-dependencies --skip-nx-cache',
      '  npx nx run-many -t rss transcribe upload --exclude-task-dependencies --skip-nx-cache',
    ]);
    expect(await pipelineMain(['--skip-rss', '--print-only'], io())).toBe(2);
    expect(err[0]).toContain('--skip-rss: only phases at the start or end of the chain can be skipped');
  });

  it('bad values get a clear error and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--sites=alpha,nope'], /unknown site nope; the sites are: alpha, beta, gamma/],
      [['--phase=publish'], /--phase=publish is not a phase: use pre-sync, check, rss, transcribe, upload, index/],
      [['--target=publish'], /--phase=publish is not a phase/],
      [['--target=rss', '--phase=check'], /--target and --phase say different things/],
      [['--conflict=newest'], /--conflict=newest is not a conflict mode/],
      [['--folders=audio,video'], /--folders: unknown folder video/],
      [['--phase=transcribe', '--only', '--conflict=overwrite-always'], /--conflict applies to pre-sync, upload/],
      [['--from=index', '--phase=rss'], /--from=index comes after --phase=rss/],
    ];
    for (const [argv, message] of cases) {
      err = [];
      expect(await pipelineMain([...argv, '--print-only'], io())).toBe(2);
      expect(err[0]).toMatch(message);
    }
  });

  it('--help lists every flag', async () => {
    expect(await pipelineMain(['--help'], io())).toBe(0);
    for (const flag of ['--debug', '--interactive', '--sites', '--phase', '--target', '--from', '--only', '--skip-<phase>', '--dry-run', '--conflict', '--folders', '--verbose', '--print-only']) {
      expect(out[0]).toContain(flag);
    }
  });
});

describe('running', () => {
  /** An npx on PATH that records its arguments and LOG_LEVEL, and exits with the code in FAKE_NPX_EXIT (when its args match). */
  function fakeNpx(): { env: NodeJS.ProcessEnv; calls: () => string[] } {
    const bin = path.join(root, 'bin');
    const log = path.join(root, 'npx.log');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'npx'),
      `#!/bin/sh\necho "LOG_LEVEL=$LOG_LEVEL $*" >> '${log}'\ncase "$*" in *"$FAKE_NPX_FAIL_ON"*) [ -n "$FAKE_NPX_FAIL_ON" ] && exit 3 ;; esac\nexit 0\n`,
    );
    chmodSync(path.join(bin, 'npx'), 0o755);
    return {
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
      calls: () => readFileSync(log, 'utf8').trim().split('\n'),
    };
  }

  it('runs the commands in order from the workspace root and exits 0', async () => {
    const npx = fakeNpx();
    expect(await pipelineMain(['--sites=alpha', '--conflict=overwrite-always', '--target=check', '--verbose'], io({ env: npx.env }))).toBe(0);
    expect(npx.calls()).toEqual([
      'LOG_LEVEL=debug nx run-many -t pre-sync --projects=alpha --conflict=overwrite-always',
      'LOG_LEVEL=debug nx run-many -t check --projects=alpha --exclude-task-dependencies --skip-nx-cache',
    ]);
  });

  it("exits with nx's code and stops at the first failing command", async () => {
    const npx = fakeNpx();
    const env = { ...npx.env, FAKE_NPX_FAIL_ON: '-t pre-sync' };
    expect(await pipelineMain(['--conflict=overwrite-always'], io({ env }))).toBe(3);
    expect(npx.calls()).toEqual(['LOG_LEVEL= nx run-many -t pre-sync --conflict=overwrite-always']);
  });

  it('the interactive run goes ahead once confirmed', async () => {
    const npx = fakeNpx();
    const ask = scriptedAsk({ sites: ['space'], phase: [], scope: ['down'], dryRun: ['y'], run: ['y'] });
    expect(await pipelineMain(['--interactive'], io({ env: npx.env, ask }))).toBe(0);
    expect(npx.calls()).toEqual(['LOG_LEVEL= nx run-many -t index --projects=alpha --exclude-task-dependencies --skip-nx-cache --dryRun']);
  });
});
