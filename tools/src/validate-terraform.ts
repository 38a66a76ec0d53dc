/**
 * Check that terraform/ and the site configs agree, without a cloud: `npx nx run tools:validate-terraform`.
 * Parses every module and var file (no terraform binary needed), reports each problem with its file and
 * fix, and runs `terraform fmt -check` where a terraform binary is on PATH. Exit 1 when anything is wrong.
 *   --no-fmt   skip `terraform fmt -check` even when terraform is installed
 */
import { findWorkspaceRoot, formatProblems } from '@podline/config';
import { diskReader, terraformFmtCheck, validateTerraform } from '@podline/terraform-check';

/** Run as `node tools/scripts/run-ts.js tools/src/validate-terraform.ts [options]` (what the tools target does). */
export async function main(argv: string[]): Promise<number> {
  const root = findWorkspaceRoot();
  const problems = await validateTerraform(diskReader(root));
  let fmtNote = 'terraform fmt -check skipped (--no-fmt)';
  if (!argv.includes('--no-fmt')) {
    const fmt = terraformFmtCheck(root);
    problems.push(...fmt.problems);
    fmtNote = fmt.ran ? 'terraform fmt -check ran' : 'terraform fmt -check skipped (no terraform binary on PATH)';
  }
  if (problems.length) {
    console.error(`${formatProblems(problems)}\n\n${problems.length} problem(s) in terraform/ and sites/ (${fmtNote}).`);
    return 1;
  }
  console.log(`terraform/ and sites/ agree (${fmtNote}).`);
  return 0;
}

