import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { buildAutomationTfvars, parseHcl, validateTerraform } from '@podline/terraform-check';
import siteGenerator, { treeReader } from './generator';
import type { SiteGeneratorSchema } from './schema';

const WORKSPACE = path.resolve(__dirname, '..', '..', '..', '..', '..');
const demo: SiteGeneratorSchema = { id: 'demo-show', title: 'Demo', feedUrl: 'https://example.com/feed.xml', awsAccountId: '123456789012', region: 'us-east-1' };

/** An empty workspace holding the real Terraform modules. */
function workspaceWithModules(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const dir of ['terraform/sites', 'terraform/automation']) {
    for (const name of readdirSync(path.join(WORKSPACE, dir)).filter((n) => n.endsWith('.tf'))) {
      tree.write(`${dir}/${name}`, readFileSync(path.join(WORKSPACE, dir, name), 'utf8'));
    }
  }
  return tree;
}

const changed = (tree: Tree) => tree.listChanges().map((c) => `${c.type} ${c.path}`).sort();

describe('site generator', () => {
  it('writes the site config and its Terraform files', async () => {
    const tree = workspaceWithModules();
    const before = new Set(tree.listChanges().map((c) => c.path));
    await siteGenerator(tree, demo);
    const created = tree.listChanges().filter((c) => !before.has(c.path)).map((c) => c.path).sort();
    expect(created).toEqual([
      'sites/demo-show/site.config.json',
      'terraform/automation/sites.auto.tfvars',
      'terraform/sites/backends/demo-show.tfbackend',
      'terraform/sites/central.auto.tfvars',
      'terraform/sites/environments/demo-show.tfvars',
    ]);
    const config = JSON.parse(tree.read('sites/demo-show/site.config.json', 'utf8')!);
    expect(config.$schema).toBe('../../libs/config/site.config.schema.json');
    expect(config.index).toEqual({ kind: 'lambda', functionName: 'podline-index-demo-show' });
    const vars = await parseHcl('x.tfvars', tree.read('terraform/sites/environments/demo-show.tfvars', 'utf8')!);
    expect(vars).toMatchObject({ site_id: 'demo-show', aws_region: 'us-east-1', automation_account_id: '123456789012', create_automation_role: true });
  });

  it('leaves a tree that validates, and the automation list the tools command would write', async () => {
    const tree = workspaceWithModules();
    await siteGenerator(tree, demo);
    await siteGenerator(tree, { ...demo, id: 'second', title: 'Second', feedUrl: 'https://example.com/2.xml' });
    const reader = treeReader(tree);
    expect(await validateTerraform(reader)).toEqual([]);
    const automation = await buildAutomationTfvars(reader);
    expect(reader.read(automation.file)).toBe(automation.content);
    expect((await parseHcl('y.tfvars', reader.read('terraform/sites/environments/second.tfvars')!)).create_automation_role).toBe(false);
  });

  it('takes account ids the command line parsed as numbers', async () => {
    const tree = workspaceWithModules();
    await siteGenerator(tree, { ...demo, awsAccountId: 123456789012, centralAccountId: 210987654321 });
    expect(JSON.parse(tree.read('sites/demo-show/site.config.json', 'utf8')!).aws.accountId).toBe('123456789012');
    expect(tree.read('terraform/sites/central.auto.tfvars', 'utf8')).toContain('central_account_id   = "210987654321"');
  });

  it('refuses an existing id with a clear error and writes nothing', async () => {
    const tree = workspaceWithModules();
    await siteGenerator(tree, demo);
    const before = changed(tree);
    await expect(siteGenerator(tree, { ...demo, title: 'Again' })).rejects.toThrow(
      'Cannot add site "demo-show":\nsites/demo-show/site.config.json: field "id": site "demo-show" already exists. Fix: choose another id, or edit the existing site config',
    );
    expect(changed(tree)).toEqual(before);
  });

  it('refuses invalid options with the config loader\'s messages', async () => {
    const tree = workspaceWithModules();
    await expect(siteGenerator(tree, { ...demo, awsAccountId: '12' })).rejects.toThrow('field "aws.accountId": "12" is not an AWS account id. Fix: use the 12-digit account id, as a string');
    await expect(siteGenerator(tree, { ...demo, region: 'moon' })).rejects.toThrow('field "aws.region"');
    expect(tree.exists('sites/demo-show')).toBe(false);
  });
});
