import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadSiteConfig } from '@podline/config';
import { parseHcl } from './hcl';
import { planNewSite, type NewSiteInput } from './new-site';
import { applyFiles, memoryTree, realModules } from './test-trees';
import { validateTerraform } from './validate';

const demo: NewSiteInput = { id: 'demo-show', title: 'Demo', feedUrl: 'https://example.com/feed.xml', awsAccountId: '123456789012', region: 'us-east-1' };

async function addSites(inputs: NewSiteInput[], start = realModules()): Promise<Record<string, string>> {
  let files = start;
  for (const input of inputs) {
    const plan = await planNewSite(memoryTree(files), input);
    expect(plan.problems).toEqual([]);
    files = applyFiles(files, plan.files);
  }
  return files;
}

describe('planNewSite', () => {
  it('plans the site config, tfvars, backend, central identity and automation list of the first site', async () => {
    const plan = await planNewSite(memoryTree(realModules()), demo);
    expect(plan.problems).toEqual([]);
    expect(plan.createsAutomationRole).toBe(true);
    expect(plan.files.map((f) => f.path)).toEqual([
      'sites/demo-show/site.config.json',
      'terraform/sites/environments/demo-show.tfvars',
      'terraform/sites/backends/demo-show.tfbackend',
      'terraform/sites/central.auto.tfvars',
      'terraform/automation/sites.auto.tfvars',
    ]);
    const config = JSON.parse(plan.files[0].content);
    expect(config).toMatchObject({
      $schema: '../../libs/config/site.config.schema.json',
      id: 'demo-show',
      podcasts: [{ id: 'demo-show', title: 'Demo', feedUrl: 'https://example.com/feed.xml', active: true }],
      storage: { kind: 's3', bucket: 'podline-demo-show-123456789012', region: 'us-east-1' },
      aws: { accountId: '123456789012', region: 'us-east-1', automationRoleName: 'podline-automation' },
      index: { kind: 'lambda', functionName: 'podline-index-demo-show' },
    });
    expect(await parseHcl('t.tfvars', plan.files[1].content)).toEqual({
      site_id: 'demo-show',
      aws_region: 'us-east-1',
      automation_account_id: '123456789012',
      create_automation_role: true,
      automation_role_name: 'podline-automation',
      bucket_name: 'podline-demo-show-123456789012',
      index_function_name: 'podline-index-demo-show',
    });
    expect(await parseHcl('b.tfbackend', plan.files[2].content)).toEqual({
      bucket: 'podline-tfstate-123456789012',
      key: 'sites/demo-show.tfstate',
      region: 'us-east-1',
      encrypt: true,
      use_lockfile: true,
    });
    expect(await parseHcl('c.tfvars', plan.files[3].content)).toEqual({ central_account_id: '123456789012', automation_user_name: 'podline-automation' });
  });

  it('writes a site config that loadSiteConfig accepts', async () => {
    const plan = await planNewSite(memoryTree(realModules()), demo);
    const dir = mkdtempSync(path.join(tmpdir(), 'podline-newsite-'));
    try {
      const file = path.join(dir, 'sites', 'demo-show', 'site.config.json');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, plan.files[0].content);
      const site = loadSiteConfig(file);
      expect(site.id).toBe('demo-show');
      expect(site.aws).toEqual({ accountId: '123456789012', region: 'us-east-1', automationRoleName: 'podline-automation' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets only the first site of an account create the automation role', async () => {
    const files = await addSites([demo]);
    const same = await planNewSite(memoryTree(files), { ...demo, id: 'second', title: 'Second' });
    expect(same.createsAutomationRole).toBe(false);
    expect((await parseHcl('s.tfvars', same.files[1].content)).create_automation_role).toBe(false);
    // central.auto.tfvars exists now: not rewritten.
    expect(same.files.map((f) => f.path)).not.toContain('terraform/sites/central.auto.tfvars');
    const other = await planNewSite(memoryTree(files), { ...demo, id: 'elsewhere', title: 'Elsewhere', awsAccountId: '210987654321' });
    expect(other.createsAutomationRole).toBe(true);
    // A different role name in the same account is a different role: it needs its own creator.
    const otherRole = await planNewSite(memoryTree(files), { ...demo, id: 'own-role', title: 'Own role', automationRoleName: 'podline-other' });
    expect(otherRole.createsAutomationRole).toBe(true);
  });

  it('leaves a tree that validates, for several sites in two accounts', async () => {
    const files = await addSites([
      demo,
      { ...demo, id: 'second', title: 'Second' },
      { ...demo, id: 'elsewhere', title: 'Elsewhere', awsAccountId: '210987654321', region: 'eu-west-1', centralAccountId: '123456789012' },
    ]);
    expect(await validateTerraform(memoryTree(files))).toEqual([]);
    const automation = await parseHcl('a.tfvars', files['terraform/automation/sites.auto.tfvars']);
    expect(Object.keys(automation.sites as object)).toEqual(['demo-show', 'elsewhere', 'second']);
  });

  it('refuses an existing id, naming the file', async () => {
    const files = await addSites([demo]);
    const again = await planNewSite(memoryTree(files), demo);
    expect(again.files).toEqual([]);
    expect(again.problems).toEqual([expect.objectContaining({ file: 'sites/demo-show/site.config.json', message: 'site "demo-show" already exists' })]);
  });

  it('refuses an id whose Terraform files were left behind', async () => {
    const files = await addSites([demo]);
    delete files['sites/demo-show/site.config.json'];
    const again = await planNewSite(memoryTree(files), demo);
    expect(again.problems.map((p) => p.file)).toEqual(['terraform/sites/environments/demo-show.tfvars', 'terraform/sites/backends/demo-show.tfbackend']);
  });

  it('refuses invalid input with the loader\'s messages', async () => {
    const plan = await planNewSite(memoryTree(realModules()), { ...demo, id: 'Bad_Id', awsAccountId: '12345', feedUrl: 'ftp://x/feed' });
    expect(plan.files).toEqual([]);
    const messages = plan.problems.map((p) => `${p.field}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'id: "Bad_Id" is not a valid id',
        'aws.accountId: "12345" is not an AWS account id',
        'podcasts[0].feedUrl: "ftp://x/feed" uses ftp:, which Podline cannot fetch',
      ]),
    );
  });

  it('refuses a central account that contradicts the existing one', async () => {
    const files = await addSites([demo]);
    const plan = await planNewSite(memoryTree(files), { ...demo, id: 'x', centralAccountId: '999999999999' });
    expect(plan.problems).toEqual([expect.objectContaining({ file: 'terraform/sites/central.auto.tfvars', message: 'is already "123456789012", not "999999999999"' })]);
  });
});
