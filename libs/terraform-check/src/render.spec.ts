import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { renderAutomationTfvars } from './automation';
import { terraformFmtCheck } from './fmt';
import { parseHcl } from './hcl';
import { renderTfvars } from './render';
import { renderSiteBackend, renderSiteTfvars, siteBackendFor } from './site-vars';

const siteVars = {
  site_id: 'demo-show',
  aws_region: 'us-east-1',
  automation_account_id: '123456789012',
  create_automation_role: true,
  automation_role_name: 'podline-automation',
  bucket_name: 'podline-demo-show-123456789012',
  bucket_prefix: '',
  index_function_name: 'podline-index-demo-show',
};
const automation = {
  central_account_id: '123456789012',
  user_name: 'podline-automation',
  sites: {
    'demo-show': { account_id: '123456789012', role_name: 'podline-automation', region: 'us-east-1' },
    other: { account_id: '210987654321', role_name: 'podline-automation', region: 'eu-west-1' },
  },
};

describe('rendering var files', () => {
  it('aligns "=" the way terraform fmt does, section by section', () => {
    const text = renderSiteTfvars(siteVars);
    expect(text.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      '',
      'site_id               = "demo-show"',
      'aws_region            = "us-east-1"',
      'automation_account_id = "123456789012"',
      '',
      'create_automation_role = true',
      'automation_role_name   = "podline-automation"',
      '',
      'bucket_name         = "podline-demo-show-123456789012"',
      'index_function_name = "podline-index-demo-show"',
      '',
    ]);
  });

  it('writes bucket_prefix only when the site has one', () => {
    expect(renderSiteTfvars({ ...siteVars, bucket_prefix: 'shows/' })).toContain(
      ['bucket_name         = "podline-demo-show-123456789012"', 'bucket_prefix       = "shows/"', 'index_function_name = "podline-index-demo-show"'].join('\n'),
    );
  });

  it('writes maps with quoted keys and nested objects', () => {
    const text = renderAutomationTfvars(automation);
    expect(text.slice(text.indexOf('central_account_id ='))).toBe(
      [
        'central_account_id = "123456789012"',
        'user_name          = "podline-automation"',
        '',
        'sites = {',
        '  "demo-show" = {',
        '    account_id = "123456789012"',
        '    role_name  = "podline-automation"',
        '    region     = "us-east-1"',
        '  }',
        '  "other" = {',
        '    account_id = "210987654321"',
        '    role_name  = "podline-automation"',
        '    region     = "eu-west-1"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(renderAutomationTfvars({ sites: {} })).toMatch(/\nsites = \{\}\n$/);
  });

  it('round-trips through the HCL parser, escaping template sigils', async () => {
    expect(await parseHcl('a.tfvars', renderAutomationTfvars(automation))).toEqual(automation);
    expect(await parseHcl('b.tfvars', renderTfvars([{ text: 'a "${b}" \\ d' }]))).toEqual({ text: 'a "${b}" \\ d' });
  });

  // Where terraform is installed, it must find nothing to reformat in what we generate.
  const probe = terraformFmtCheck(tmpdir(), 'terraform');
  (probe.ran ? it : it.skip)('generates files `terraform fmt -check` accepts', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'podline-fmt-'));
    try {
      mkdirSync(path.join(root, 'terraform'));
      writeFileSync(path.join(root, 'terraform', 'site.tfvars'), renderSiteTfvars(siteVars));
      writeFileSync(path.join(root, 'terraform', 'prefixed.tfvars'), renderSiteTfvars({ ...siteVars, bucket_prefix: 'shows/' }));
      writeFileSync(path.join(root, 'terraform', 'sites.auto.tfvars'), renderAutomationTfvars(automation));
      // .tfbackend is not a file terraform fmt reads; check its HCL under a .tfvars name.
      writeFileSync(path.join(root, 'terraform', 'backend.tfvars'), renderSiteBackend('demo-show', siteBackendFor('demo-show', 'state', 'us-east-1')));
      writeFileSync(path.join(root, 'terraform', 'bad.tfvars'), 'a = 1\nlonger = 2\n');
      const result = terraformFmtCheck(root);
      // The deliberately misaligned file proves the check looks at these files at all.
      expect(result.problems.map((p) => p.file)).toEqual(['terraform/bad.tfvars']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
