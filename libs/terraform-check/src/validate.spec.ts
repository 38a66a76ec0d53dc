import type { ConfigProblem } from '@podline/config';
import { planNewSite, type NewSiteInput } from './new-site';
import { applyFiles, memoryTree, realModules } from './test-trees';
import { validateTerraform } from './validate';

const base: NewSiteInput = { id: 'alpha', title: 'Alpha', feedUrl: 'https://example.com/a.xml', awsAccountId: '111111111111', region: 'us-east-1' };
const sites: NewSiteInput[] = [
  base,
  { ...base, id: 'beta', title: 'Beta', feedUrl: 'https://example.com/b.xml' },
  { ...base, id: 'gamma', title: 'Gamma', feedUrl: 'https://example.com/g.xml', awsAccountId: '222222222222', region: 'eu-west-1' },
];
const LOCAL_SITE = JSON.stringify({ id: 'local', title: 'Local', podcasts: [{ id: 'p', title: 'P', feedUrl: 'file:feed.xml' }], storage: { kind: 'local' } });

/** A consistent tree: the real modules, a local-only site and three AWS sites (two share an account). */
let good: Record<string, string>;
beforeAll(async () => {
  let files: Record<string, string> = { ...realModules(), 'sites/local/site.config.json': LOCAL_SITE };
  for (const input of sites) {
    const plan = await planNewSite(memoryTree(files), input);
    expect(plan.problems).toEqual([]);
    files = applyFiles(files, plan.files);
  }
  good = files;
});

async function problemsAfter(edit: (files: Record<string, string>) => void): Promise<ConfigProblem[]> {
  const files = { ...good };
  edit(files);
  return validateTerraform(memoryTree(files));
}

const tfvars = (id: string) => `terraform/sites/environments/${id}.tfvars`;
const AUTOMATION = 'terraform/automation/sites.auto.tfvars';

describe('validateTerraform', () => {
  it('passes a consistent tree (local-only sites need no Terraform files)', async () => {
    expect(await validateTerraform(memoryTree(good))).toEqual([]);
  });

  it('reports a missing tfvars with the values to write', async () => {
    const problems = await problemsAfter((f) => delete f[tfvars('beta')]);
    expect(problems).toEqual([
      {
        file: tfvars('beta'),
        field: '',
        message: 'is missing: site "beta" (sites/beta/site.config.json) has an "aws" block',
        fix: expect.stringContaining('site_id = "beta", aws_region = "us-east-1", automation_account_id = "111111111111"'),
      },
    ]);
  });

  it('reports a missing backend file', async () => {
    const problems = await problemsAfter((f) => delete f['terraform/sites/backends/gamma.tfbackend']);
    expect(problems).toEqual([expect.objectContaining({ file: 'terraform/sites/backends/gamma.tfbackend', message: 'is missing: site "gamma" (sites/gamma/site.config.json) has an "aws" block' })]);
  });

  it('reports tfvars and backend files that belong to no site, or to a local-only site', async () => {
    const problems = await problemsAfter((f) => {
      f[tfvars('ghost')] = f[tfvars('alpha')].replace(/"alpha"/g, '"ghost"').replace('true', 'false');
      f[tfvars('local')] = f[tfvars('alpha')].replace(/"alpha"/g, '"local"').replace('true', 'false');
      f['terraform/sites/backends/ghost.tfbackend'] = f['terraform/sites/backends/alpha.tfbackend'].replace('alpha', 'ghost');
    });
    expect(problems.map((p) => `${p.file}: ${p.message}`)).toEqual([
      `${tfvars('ghost')}: belongs to no site: there is no sites/**/ghost/site.config.json`,
      `${tfvars('local')}: belongs to site "local", which has no "aws" block (a local-only site needs no Terraform)`,
      'terraform/sites/backends/ghost.tfbackend: belongs to no site: there is no sites/**/ghost/site.config.json',
    ]);
  });

  it('reports two role creators in one account', async () => {
    const problems = await problemsAfter((f) => (f[tfvars('beta')] = f[tfvars('beta')].replace('create_automation_role = false', 'create_automation_role = true')));
    expect(problems).toEqual([
      {
        file: tfvars('beta'),
        field: '',
        message: `2 sites in AWS account 111111111111 create the automation role "podline-automation": ${tfvars('alpha')}, ${tfvars('beta')}`,
        fix: `keep create_automation_role = true in ${tfvars('alpha')} only; set it to false in the others`,
      },
    ]);
  });

  it('reports an account where no site creates the role', async () => {
    const problems = await problemsAfter((f) => (f[tfvars('alpha')] = f[tfvars('alpha')].replace('create_automation_role = true', 'create_automation_role = false')));
    expect(problems).toEqual([
      {
        file: tfvars('alpha'),
        field: '',
        message: `no site in AWS account 111111111111 creates the automation role "podline-automation" (create_automation_role is false in ${tfvars('alpha')}, ${tfvars('beta')})`,
        fix: `set create_automation_role = true in exactly one of them (the first site of the account: ${tfvars('alpha')})`,
      },
    ]);
  });

  it('reports an account id that differs between site config and tfvars', async () => {
    const problems = await problemsAfter((f) => (f[tfvars('gamma')] = f[tfvars('gamma')].replace('"222222222222"', '"333333333333"')));
    expect(problems).toEqual([
      {
        file: tfvars('gamma'),
        field: '',
        message: 'automation_account_id is "333333333333" but sites/gamma/site.config.json says aws.accountId "222222222222"',
        fix: 'make them agree: set automation_account_id = "222222222222" here, or correct aws.accountId in the site config',
      },
    ]);
  });

  it('reports a role name that differs between site config and tfvars', async () => {
    const problems = await problemsAfter((f) => {
      const config = JSON.parse(f['sites/gamma/site.config.json']);
      config.aws.automationRoleName = 'podline-renamed';
      f['sites/gamma/site.config.json'] = JSON.stringify(config);
      // Regenerated automation list: only the tfvars disagree.
      f[AUTOMATION] = f[AUTOMATION].replace('role_name  = "podline-automation"\n    region     = "eu-west-1"', 'role_name  = "podline-renamed"\n    region     = "eu-west-1"');
    });
    expect(problems.map((p) => p.message)).toEqual(['automation_role_name is "podline-automation" but sites/gamma/site.config.json says aws.automationRoleName "podline-renamed"']);
  });

  it('reports a bucket and a function name that differ from the site config', async () => {
    const problems = await problemsAfter((f) => {
      f[tfvars('alpha')] = f[tfvars('alpha')].replace('"podline-alpha-111111111111"', '"other-bucket"').replace('"podline-index-alpha"', '"other-fn"');
    });
    expect(problems.map((p) => p.message)).toEqual([
      'bucket_name is "other-bucket" but sites/alpha/site.config.json says storage.bucket "podline-alpha-111111111111"',
      'index_function_name is "other-fn" but sites/alpha/site.config.json says index.functionName "podline-index-alpha"',
    ]);
  });

  it('reports a bucket prefix the site config has but the tfvars lack, and accepts it once written', async () => {
    const withPrefix = (f: Record<string, string>) => {
      const config = JSON.parse(f['sites/alpha/site.config.json']);
      config.storage.prefix = 'shows/';
      f['sites/alpha/site.config.json'] = JSON.stringify(config);
    };
    expect((await problemsAfter(withPrefix)).map((p) => p.message)).toEqual(['bucket_prefix is "" but sites/alpha/site.config.json says storage.prefix "shows/"']);
    const fixed = await problemsAfter((f) => {
      withPrefix(f);
      f[tfvars('alpha')] += 'bucket_prefix = "shows/"\n';
    });
    expect(fixed).toEqual([]);
  });

  it('reports a site missing from the automation module', async () => {
    const problems = await problemsAfter((f) => {
      f[AUTOMATION] = f[AUTOMATION].replace(/  "beta" = \{[^}]*\}\n/, '');
    });
    expect(problems).toEqual([
      {
        file: AUTOMATION,
        field: '',
        message: 'does not list site "beta" (account 111111111111), so the automation user cannot reach it',
        fix: 'run `npx nx run tools:automation-sites` to regenerate it from the site configs',
      },
    ]);
  });

  it('reports a site the automation module lists but should not (no longer automated)', async () => {
    const problems = await problemsAfter((f) => {
      const config = JSON.parse(f['sites/beta/site.config.json']);
      config.podcasts[0].active = false;
      f['sites/beta/site.config.json'] = JSON.stringify(config);
    });
    expect(problems.map((p) => p.message)).toEqual(['lists site "beta", but it has no active podcast: the automation user may assume a role it should not']);
  });

  it('reports a missing automation list while sites are automated', async () => {
    const problems = await problemsAfter((f) => delete f[AUTOMATION]);
    expect(problems.map((p) => `${p.file}: ${p.message}`)).toEqual([`${AUTOMATION}: is missing, so the automation user may reach none of the sites: alpha, beta, gamma`]);
  });

  it('reports an undeclared variable and a missing required one', async () => {
    const problems = await problemsAfter((f) => {
      f[tfvars('alpha')] = f[tfvars('alpha')].replace('site_id ', 'site_idd').replace('bucket_name ', 'bucket_nam ');
    });
    expect(problems.map((p) => p.message)).toEqual([
      'sets "bucket_nam", which is not a variable declared in terraform/sites',
      'sets "site_idd", which is not a variable declared in terraform/sites',
      'does not set "bucket_name", which terraform/sites requires (it has no default)',
      'does not set "site_id", which terraform/sites requires (it has no default)',
    ]);
    expect(problems[1].fix).toMatch(/^remove it or correct its spelling \(declared: .*site_id/);
  });

  it('reports an undeclared variable in the automation list and the central identity', async () => {
    const problems = await problemsAfter((f) => {
      f[AUTOMATION] += 'extra = 1\n';
      f['terraform/sites/central.auto.tfvars'] += 'surprise = "x"\n';
    });
    expect(problems.map((p) => `${p.file}: ${p.message}`)).toEqual([
      'terraform/sites/central.auto.tfvars: sets "surprise", which is not a variable declared in terraform/sites',
      `${AUTOMATION}: sets "extra", which is not a variable declared in terraform/automation`,
    ]);
  });

  it('reports a bucket name two sites would both create', async () => {
    const problems = await problemsAfter((f) => {
      const config = JSON.parse(f['sites/gamma/site.config.json']);
      config.storage.bucket = 'podline-alpha-111111111111';
      f['sites/gamma/site.config.json'] = JSON.stringify(config);
      f[tfvars('gamma')] = f[tfvars('gamma')].replace('"podline-gamma-222222222222"', '"podline-alpha-111111111111"');
    });
    expect(problems).toEqual([
      {
        file: tfvars('gamma'),
        field: '',
        message: `uses the same bucket_name "podline-alpha-111111111111" as ${tfvars('alpha')}: the second apply would fail or take over the first site's resource`,
        fix: 'give each site its own name, in its site config and its tfvars',
      },
    ]);
  });

  it('reports a backend key shared with another site', async () => {
    const problems = await problemsAfter((f) => (f['terraform/sites/backends/beta.tfbackend'] = f['terraform/sites/backends/alpha.tfbackend']));
    expect(problems.map((p) => p.message)).toEqual(['key is "sites/alpha.tfstate": each site needs its own state, at "sites/beta.tfstate"']);
  });

  it('reports a central identity that differs from the automation module\'s', async () => {
    const problems = await problemsAfter((f) => (f[AUTOMATION] = f[AUTOMATION].replace('central_account_id = "111111111111"', 'central_account_id = "999999999999"')));
    expect(problems.map((p) => p.message)).toEqual(['central_account_id is "999999999999" but terraform/sites/central.auto.tfvars says central_account_id "111111111111"']);
  });

  it('reports a site bucket without the rule that aborts incomplete multipart uploads', async () => {
    const bucketTf = 'terraform/sites/bucket.tf';
    expect(good[bucketTf]).toMatch(/abort_incomplete_multipart_upload/);
    const without = await problemsAfter((f) => {
      f[bucketTf] = f[bucketTf].replace(/resource "aws_s3_bucket_lifecycle_configuration" "site" \{[\s\S]*?\n\}\n/, '');
    });
    expect(without).toEqual([
      expect.objectContaining({ file: bucketTf, message: expect.stringMatching(/no lifecycle rule aborting incomplete multipart uploads/), fix: expect.stringMatching(/days_after_initiation = 1/) }),
    ]);
    const disabled = await problemsAfter((f) => {
      f[bucketTf] = f[bucketTf].replace('status = "Enabled"\n\n    filter {}', 'status = "Disabled"\n\n    filter {}');
    });
    expect(disabled.map((p) => p.file)).toEqual([bucketTf]);
  });

  it('reports a file that is not valid HCL, with line and column', async () => {
    const problems = await problemsAfter((f) => (f[tfvars('gamma')] = 'site_id = "gamma"\nbroken = {\n'));
    expect(problems).toHaveLength(1);
    expect(problems[0].file).toBe(tfvars('gamma'));
    expect(problems[0].message).toMatch(/^is not valid HCL: .*gamma\.tfvars:3,1-1: Missing expression/);
  });

  it('reports an invalid site config instead of guessing', async () => {
    const problems = await problemsAfter((f) => (f['sites/beta/site.config.json'] = '{"id": "beta"'));
    expect(problems.map((p) => p.file)).toContain('sites/beta/site.config.json');
  });
});
