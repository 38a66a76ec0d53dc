import { formatProblems } from '@podline/config';
import { buildAutomationTfvars } from './automation';
import { terraformFmtCheck } from './fmt';
import { diskReader } from './reader';
import { WORKSPACE_ROOT } from './test-trees';
import { validateTerraform } from './validate';

/**
 * The REAL repository: terraform/ and sites/ must agree, so the test command fails as soon as someone
 * adds a site without its Terraform files, or edits one side only.
 */
describe('this repository', () => {
  const reader = diskReader(WORKSPACE_ROOT);

  it('has terraform/ in step with sites/', async () => {
    const problems = await validateTerraform(reader);
    // The formatted text names each file and fix when this fails.
    expect(formatProblems(problems)).toBe('');
  });

  it('has terraform/automation/sites.auto.tfvars exactly as the tools command writes it', async () => {
    const result = await buildAutomationTfvars(reader);
    expect(formatProblems(result.problems)).toBe('');
    expect(reader.read(result.file)).toBe(result.content);
  });

  // `terraform fmt` needs the binary; where it is absent, the figure-free check above still runs.
  const fmt = terraformFmtCheck(WORKSPACE_ROOT);
  (fmt.ran ? it : it.skip)('has Terraform files formatted as `terraform fmt` writes them', () => {
    expect(formatProblems(fmt.problems)).toBe('');
  });
});
