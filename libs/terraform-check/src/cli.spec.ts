import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { planNewSite } from './new-site';
import { memoryTree, realModules, WORKSPACE_ROOT } from './test-trees';
import { spawnTsSync } from '@podline/testing/run-ts';

/**
 * The tools entry points (tools/src/*.ts) as an operator runs them, on a throw-away workspace: exit codes,
 * messages, and that regenerating twice changes nothing the second time.
 */
function run(script: string, cwd: string, ...args: string[]) {
  // As the tools targets run them: through the workspace's TypeScript launcher.
  const res = spawnTsSync(path.join(WORKSPACE_ROOT, 'tools', 'src', script), args, { cwd, encoding: 'utf8' });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

let root: string;
const write = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
};

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'podline-tf-cli-'));
  write('nx.json', '{}\n');
  for (const [rel, text] of Object.entries(realModules())) write(rel, text);
  const plan = await planNewSite(memoryTree(realModules()), { id: 'demo', title: 'Demo', feedUrl: 'https://example.com/f.xml', awsAccountId: '123456789012', region: 'us-east-1' });
  // Everything but the automation list, which the tools command must write.
  for (const f of plan.files) if (!f.path.startsWith('terraform/automation/')) write(f.path, f.content);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('tools scripts', () => {
  const automation = () => path.join(root, 'terraform', 'automation', 'sites.auto.tfvars');

  it('validate-terraform fails, naming the file and the fix, while the automation list is missing', () => {
    const { code, err } = run('validate-terraform.ts', root, '--no-fmt');
    expect(code).toBe(1);
    expect(err).toContain('terraform/automation/sites.auto.tfvars: is missing, so the automation user may reach none of the sites: demo. Fix: run `npx nx run tools:automation-sites`');
  });

  it('automation-sites --dry-run prints the list and writes nothing', () => {
    const { code, out } = run('automation-sites.ts', root, '--dry-run');
    expect(code).toBe(0);
    expect(out).toContain('  "demo" = {');
    expect(() => statSync(automation())).toThrow();
  });

  it('automation-sites writes the list once; a second run changes nothing', () => {
    expect(run('automation-sites.ts', root).out).toContain('Wrote terraform/automation/sites.auto.tfvars.');
    const first = statSync(automation());
    const text = readFileSync(automation(), 'utf8');
    expect(run('automation-sites.ts', root).out).toContain('is up to date');
    expect(statSync(automation()).mtimeMs).toBe(first.mtimeMs);
    expect(readFileSync(automation(), 'utf8')).toBe(text);
  });

  it('validate-terraform then passes', () => {
    const { code, out } = run('validate-terraform.ts', root, '--no-fmt');
    expect(code).toBe(0);
    expect(out).toContain('terraform/ and sites/ agree');
  });

  it('automation-sites refuses to write while a site config is broken', () => {
    const before = readFileSync(automation(), 'utf8');
    write('sites/broken/site.config.json', '{"id": "broken", "title": "B", "podcasts": []}');
    const { code, err } = run('automation-sites.ts', root);
    expect(code).toBe(1);
    expect(err).toContain('sites/broken/site.config.json: field "podcasts": is empty. Fix: list at least one podcast');
    expect(err).toContain('was not written');
    expect(readFileSync(automation(), 'utf8')).toBe(before);
    rmSync(path.join(root, 'sites', 'broken'), { recursive: true });
  });
});
