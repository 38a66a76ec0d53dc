/**
 * Regenerate terraform/automation/sites.auto.tfvars from every site config:
 * `npx nx run tools:automation-sites` (add `--dry-run` to print it without writing).
 * Idempotent: the file is rewritten (atomically) only when its content changes. Refuses, writing nothing,
 * while a site config is broken: leaving that site out would withdraw the automation's access to it.
 */
import * as path from 'node:path';
import { findWorkspaceRoot, formatProblems, writeFileAtomic } from '@podline/config';
import { buildAutomationTfvars, diskReader } from '@podline/terraform-check';

/** Run as `node tools/scripts/run-ts.js tools/src/automation-sites.ts [options]` (what the tools target does). */
export async function main(argv: string[]): Promise<number> {
  const root = findWorkspaceRoot();
  const reader = diskReader(root);
  const result = await buildAutomationTfvars(reader);
  if (result.content === undefined) {
    console.error(`${formatProblems(result.problems)}\n\n${result.file} was not written: fix the problems above first.`);
    return 1;
  }
  if (argv.includes('--dry-run') || argv.includes('--dryRun')) {
    process.stdout.write(`# ${result.file} (dry run: not written)\n${result.content}`);
    return 0;
  }
  if (reader.read(result.file) === result.content) {
    console.log(`${result.file} is up to date.`);
    return 0;
  }
  await writeFileAtomic(path.join(root, ...result.file.split('/')), result.content);
  console.log(`Wrote ${result.file}.`);
  return 0;
}

