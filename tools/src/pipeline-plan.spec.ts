import * as path from 'node:path';
import { UsageError } from './args';
import { PHASES, planCommands, type Capabilities, type PipelineChoice } from './pipeline-plan';
import { readCapabilities } from './pipeline-workspace';
import { formatCommands } from './pipeline';

const base = ['dryRun', 'verbose'];
/** Like the real plugin: the sync phases take conflict/folders (check only folders), the others do not. */
const caps: Capabilities = {
  'pre-sync': new Set([...base, 'conflict', 'folders']),
  check: new Set([...base, 'folders']),
  rss: new Set(base),
  transcribe: new Set(base),
  upload: new Set([...base, 'conflict', 'folders']),
  index: new Set(base),
};
const none: Capabilities = Object.fromEntries(PHASES.map((p) => [p, new Set(base)])) as unknown as Capabilities;

function choice(over: Partial<PipelineChoice> = {}): PipelineChoice {
  return { sites: [], from: 'pre-sync', to: 'index', dryRun: false, verbose: false, folders: [], ...over };
}
const argvs = (c: PipelineChoice, k: Capabilities = caps, prefix = '') => planCommands(c, k, prefix).map((x) => x.argv.join(' '));

describe('planCommands', () => {
  it('the plain run is the cron command', () => {
    expect(argvs(choice())).toEqual(['nx run-many -t index']);
  });

  it('--sites become --projects; a shorter chain names its last phase', () => {
    expect(argvs(choice({ sites: ['a', 'b'], to: 'rss' }))).toEqual(['nx run-many -t rss --projects=a,b']);
  });

  it('a dry run names every phase, so --dryRun reaches each (dependsOn does not forward it), and bypasses the cache', () => {
    expect(argvs(choice({ dryRun: true }))).toEqual([
      'nx run-many -t pre-sync check rss transcribe upload index --skip-nx-cache --dryRun',
    ]);
  });

  it('one phase alone runs without its dependencies and without the cache', () => {
    expect(argvs(choice({ from: 'upload', to: 'upload', sites: ['b'] }))).toEqual([
      'nx run-many -t upload --projects=b --exclude-task-dependencies --skip-nx-cache',
    ]);
    expect(argvs(choice({ from: 'rss', to: 'upload' }))).toEqual([
      'nx run-many -t rss transcribe upload --exclude-task-dependencies --skip-nx-cache',
    ]);
  });

  it('conflict and folders go only to the phases that accept them, in order, one nx run per group', () => {
    expect(argvs(choice({ conflict: 'overwrite-if-newer', folders: ['rss', 'audio'], sites: ['a'] }))).toEqual([
      'nx run-many -t pre-sync --projects=a --conflict=overwrite-if-newer --folders=rss,audio',
      'nx run-many -t check --projects=a --exclude-task-dependencies --skip-nx-cache --folders=rss,audio',
      'nx run-many -t rss transcribe --projects=a --exclude-task-dependencies --skip-nx-cache',
      'nx run-many -t upload --projects=a --exclude-task-dependencies --skip-nx-cache --conflict=overwrite-if-newer --folders=rss,audio',
      'nx run-many -t index --projects=a --exclude-task-dependencies --skip-nx-cache',
    ]);
  });

  it('groups phases that take the same options', () => {
    const same: Capabilities = { ...caps, check: new Set([...base, 'conflict', 'folders']) };
    expect(argvs(choice({ conflict: 'overwrite-always', to: 'check' }), same)).toEqual([
      'nx run-many -t pre-sync check --conflict=overwrite-always',
    ]);
    expect(argvs(choice({ conflict: 'overwrite-always', to: 'check' }), { ...caps, check: 'any', 'pre-sync': 'any' })).toEqual([
      'nx run-many -t pre-sync check --conflict=overwrite-always',
    ]);
  });

  it('refuses options no selected phase takes, saying which phases do', () => {
    expect(() => planCommands(choice({ from: 'rss', to: 'transcribe', conflict: 'skip-existing' }), caps)).toThrow(
      '--conflict applies to pre-sync, upload; the phases selected (rss, transcribe) take none of it',
    );
    expect(() => planCommands(choice({ folders: ['audio'] }), none)).toThrow(/applies to no phase of this workspace/);
  });

  it('refuses a dry run when a phase cannot dry-run (it would really run)', () => {
    const noDry: Capabilities = { ...caps, transcribe: new Set(['verbose']) };
    expect(() => planCommands(choice({ dryRun: true }), noDry)).toThrow(/--dryRun is not accepted by transcribe/);
    expect(argvs(choice({ dryRun: true, to: 'rss' }), noDry)).toEqual(['nx run-many -t pre-sync check rss --skip-nx-cache --dryRun']);
  });

  it('refuses a chain that runs backwards', () => {
    expect(() => planCommands(choice({ from: 'upload', to: 'rss' }), caps)).toThrow(UsageError);
  });

  it('verbose logging goes through LOG_LEVEL (nx keeps --verbose for itself)', () => {
    const [cmd] = planCommands(choice({ verbose: true }), caps);
    expect(cmd.env).toEqual({ LOG_LEVEL: 'debug' });
    expect(cmd.argv).not.toContain('--verbose');
    expect(formatCommands([cmd])).toBe('LOG_LEVEL=debug npx nx run-many -t index');
  });

  it('uses the plugin target prefix', () => {
    expect(argvs(choice({ dryRun: true, to: 'check' }), caps, 'podline-')).toEqual([
      'nx run-many -t podline-pre-sync podline-check --skip-nx-cache --dryRun',
    ]);
  });

  it('formats several commands joined with &&', () => {
    expect(formatCommands(planCommands(choice({ conflict: 'skip-existing', to: 'check', sites: ['a b'] }), caps))).toBe(
      "npx nx run-many -t pre-sync '--projects=a b' --conflict=skip-existing && \\\n  npx nx run-many -t check '--projects=a b' --exclude-task-dependencies --skip-nx-cache",
    );
  });
});

describe('against the real executors of this workspace', () => {
  const real = readCapabilities(path.resolve(__dirname, '..', '..'));

  it('reads a schema for every phase; each takes dryRun', () => {
    for (const phase of PHASES) {
      expect(real[phase] === 'any' || real[phase].has('dryRun')).toBe(true);
    }
  });

  it.each([
    { dryRun: true },
    { dryRun: true, conflict: 'overwrite-always' as const },
    { folders: ['audio' as const], dryRun: true },
    { folders: ['rss' as const], conflict: 'skip-existing' as const },
  ])('%j: every option reaches only phases whose schema declares it, and a dry run reaches every phase', (over) => {
    const c = choice(over);
    if ((c.conflict && !PHASES.some((p) => real[p] === 'any' || real[p].has('conflict'))) || (c.folders.length && !PHASES.some((p) => real[p] === 'any' || real[p].has('folders')))) {
      expect(() => planCommands(c, real)).toThrow(UsageError);
      return;
    }
    const commands = planCommands(c, real);
    const ran: string[] = [];
    for (const { argv } of commands) {
      const rest = argv.slice(argv.indexOf('-t') + 1);
      const targets = rest.slice(0, rest.findIndex((a) => a.startsWith('--')));
      const options = argv.filter((a) => /^--(dryRun|conflict|folders)/.test(a)).map((a) => a.slice(2).split('=')[0]);
      for (const t of targets) {
        ran.push(t);
        for (const o of options) expect(real[t as keyof Capabilities] === 'any' || (real[t as keyof Capabilities] as Set<string>).has(o)).toBe(true);
        if (c.dryRun) expect(options).toContain('dryRun');
      }
    }
    // No phase left out, none twice, in pipeline order.
    expect(ran).toEqual([...PHASES]);
  });
});
