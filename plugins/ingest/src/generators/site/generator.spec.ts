import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { buildAutomationTfvars, parseHcl, validateTerraform } from '@podline/terraform-check';
import siteStorageGenerator from '../site-storage/generator';
import siteGenerator, { treeReader } from './generator';
import schema from './schema.json';
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

  it('asks where the files live first, and leaves the AWS questions to the generator', () => {
    const prompted = Object.entries(schema.properties).filter(([, v]) => 'x-prompt' in v).map(([k]) => k);
    expect(prompted).toEqual(['storage', 'id', 'title', 'feedUrl', 'episodes']);
    expect(schema.properties.episodes['x-prompt'].items.map((i) => i.value)).toEqual(['all', 'newest', 'recent']);
    const storage = schema.properties.storage['x-prompt'];
    expect(storage.message).toBe("Where do the site's files live?");
    expect(storage.items.map((i) => i.value)).toEqual(['local', 's3']);
    expect(storage.items[0].label).toMatch(/^this machine/);
    expect(storage.items[1].label).toMatch(/^an S3 bucket/);
    expect(schema.required).toEqual(['id', 'title', 'feedUrl']);
  });

  it('--storage=local writes only the site config: local bucket, local index, no Terraform, no questions', async () => {
    const tree = workspaceWithModules();
    const before = new Set(tree.listChanges().map((c) => c.path));
    const asked: string[] = [];
    await siteGenerator(tree, { storage: 'local', id: 'my-show', title: 'My Show', feedUrl: 'https://example.com/feed.xml' }, async (q) => {
      asked.push(q);
      return '';
    });
    expect(asked).toEqual([]);
    expect(tree.listChanges().filter((c) => !before.has(c.path)).map((c) => c.path)).toEqual(['sites/my-show/site.config.json']);
    expect(JSON.parse(tree.read('sites/my-show/site.config.json', 'utf8')!)).toEqual({
      $schema: '../../libs/config/site.config.schema.json',
      id: 'my-show',
      title: 'My Show',
      podcasts: [{ id: 'my-show', title: 'My Show', feedUrl: 'https://example.com/feed.xml', active: true }],
      storage: { kind: 'local' },
      transcription: { engine: 'whisper', model: 'base.en', language: 'en', maxEpisodesPerRun: 3 },
      downloads: { maxPerRun: 20 },
      index: { kind: 'local' },
    });
    expect(await validateTerraform(treeReader(tree))).toEqual([]);
  });

  it('offers the whole back catalogue in slices, the newest N or the last N days, asking N when interactive', async () => {
    const tree = workspaceWithModules();
    const site = { storage: 'local' as const, title: 'Show', feedUrl: 'https://example.com/feed.xml' };
    const read = (id: string) => JSON.parse(tree.read(`sites/${id}/site.config.json`, 'utf8')!);
    await siteGenerator(tree, { ...site, id: 'whole', episodes: 'all', maxDownloadsPerRun: 0, maxEpisodesPerRun: 0 }, undefined);
    expect(read('whole').downloads).toBeUndefined();
    expect(read('whole').transcription.maxEpisodesPerRun).toBeUndefined();
    await siteGenerator(tree, { ...site, id: 'newest', episodes: 'newest', newest: 5, maxDownloadsPerRun: 2, maxEpisodesPerRun: 1 }, undefined);
    expect(read('newest').downloads).toEqual({ newest: 5, maxPerRun: 2 });
    expect(read('newest').transcription.maxEpisodesPerRun).toBe(1);
    const asked: string[] = [];
    await siteGenerator(tree, { ...site, id: 'recent', episodes: 'recent' }, async (q, initial) => {
      asked.push(`${q} [${initial}]`);
      return '30';
    });
    expect(asked).toEqual(['Episodes from how many of the last days? [90]']);
    expect(read('recent').downloads).toEqual({ lastDays: 30, maxPerRun: 20 });
    await siteGenerator(tree, { ...site, id: 'quiet', episodes: 'newest' }, undefined);
    expect(read('quiet').downloads).toEqual({ newest: 20, maxPerRun: 20 });
    await expect(siteGenerator(tree, { ...site, id: 'odd', episodes: 'some' as 'all' })).rejects.toThrow('--episodes must be "all"');
    // Every one of them is a valid site config.
    expect(await validateTerraform(treeReader(tree))).toEqual([]);
  });

  it('is local without --storage unless AWS options are given, and refuses AWS options for a local site', async () => {
    const tree = workspaceWithModules();
    await siteGenerator(tree, { id: 'plain', title: 'Plain', feedUrl: 'https://example.com/p.xml' });
    expect(JSON.parse(tree.read('sites/plain/site.config.json', 'utf8')!).storage).toEqual({ kind: 'local' });
    await expect(siteGenerator(tree, { ...demo, storage: 'local' })).rejects.toThrow(
      'Cannot add site "demo-show": --awsAccountId, --region only apply to a site kept in S3. Fix: add --storage=s3, or leave them out for a local site',
    );
    await expect(siteGenerator(tree, { ...demo, storage: 'disk' as 'local' })).rejects.toThrow('--storage must be "local"');
    expect(tree.exists('sites/demo-show')).toBe(false);
  });

  it('--storage=s3 asks the account and region when interactive, and names the missing option when not', async () => {
    const tree = workspaceWithModules();
    const base = { storage: 's3' as const, id: 'cloud', title: 'Cloud', feedUrl: 'https://example.com/c.xml' };
    await expect(siteGenerator(tree, base, undefined)).rejects.toThrow(
      'field "aws.accountId": is required for a site kept in S3. Fix: pass --awsAccountId=<12-digit account id>, or choose --storage=local to start without AWS',
    );
    const asked: string[] = [];
    const answers: Record<string, string> = { 'AWS account id of the site (12 digits)?': '123456789012', 'AWS region?': '' };
    await siteGenerator(tree, base, async (q, initial) => {
      asked.push(`${q} [${initial ?? ''}]`);
      return answers[q];
    });
    expect(asked).toEqual(['AWS account id of the site (12 digits)? []', 'AWS region? [us-east-1]']);
    expect(JSON.parse(tree.read('sites/cloud/site.config.json', 'utf8')!).storage).toEqual({ kind: 's3', bucket: 'podline-cloud-123456789012', region: 'us-east-1' });
    expect(tree.exists('terraform/sites/environments/cloud.tfvars')).toBe(true);
  });
});

describe('site-storage generator', () => {
  it('moves a local site to S3 keeping its ids and settings, with the Terraform a new S3 site gets', async () => {
    const tree = workspaceWithModules();
    await siteGenerator(tree, { storage: 'local', id: 'my-show', title: 'My Show', feedUrl: 'https://example.com/feed.xml', podcastId: 'main' });
    const config = JSON.parse(tree.read('sites/my-show/site.config.json', 'utf8')!);
    config.transcription.prompt = 'Names: Ada, Grace';
    tree.write('sites/my-show/site.config.json', JSON.stringify(config, null, 2) + '\n');

    await siteStorageGenerator(tree, { id: 'my-show', storage: 's3', awsAccountId: 123456789012, region: 'eu-west-1' }, undefined);
    const moved = JSON.parse(tree.read('sites/my-show/site.config.json', 'utf8')!);
    expect(moved).toEqual({
      ...config,
      storage: { kind: 's3', bucket: 'podline-my-show-123456789012', region: 'eu-west-1' },
      aws: { accountId: '123456789012', region: 'eu-west-1', automationRoleName: 'podline-automation' },
      index: { kind: 'lambda', functionName: 'podline-index-my-show' },
    });
    // The same Terraform files a site generated with --storage=s3 gets, and a tree that validates.
    const fresh = workspaceWithModules();
    await siteGenerator(fresh, { storage: 's3', id: 'my-show', title: 'My Show', feedUrl: 'https://example.com/feed.xml', podcastId: 'main', awsAccountId: '123456789012', region: 'eu-west-1' });
    for (const file of ['terraform/sites/environments/my-show.tfvars', 'terraform/sites/backends/my-show.tfbackend', 'terraform/automation/sites.auto.tfvars']) {
      expect(tree.read(file, 'utf8')).toBe(fresh.read(file, 'utf8'));
    }
    expect(await validateTerraform(treeReader(tree))).toEqual([]);

    await expect(siteStorageGenerator(tree, { id: 'my-show', storage: 's3', awsAccountId: '123456789012', region: 'eu-west-1' }, undefined)).rejects.toThrow(
      'site "my-show" already keeps its files in S3. Fix: nothing to do',
    );
  });

  it('moves an S3 site back to local storage, and refuses a site that does not exist', async () => {
    const tree = workspaceWithModules();
    await siteGenerator(tree, demo);
    await siteStorageGenerator(tree, { id: 'demo-show', storage: 'local' }, undefined);
    const config = JSON.parse(tree.read('sites/demo-show/site.config.json', 'utf8')!);
    expect(config.storage).toEqual({ kind: 'local' });
    expect(config.index).toEqual({ kind: 'local' });
    expect(config.aws).toBeUndefined();
    expect(config.podcasts[0].id).toBe('demo-show');
    await expect(siteStorageGenerator(tree, { id: 'nope', storage: 's3', awsAccountId: '123456789012', region: 'us-east-1' }, undefined)).rejects.toThrow(
      'field "id": site "nope" does not exist',
    );
  });
});
