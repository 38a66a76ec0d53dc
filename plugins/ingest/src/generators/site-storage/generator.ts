import { logger, type Tree } from '@nx/devkit';
import { formatProblems } from '@podline/config';
import { planStorageChange } from '@podline/terraform-check';
import { isInteractive, terminalAsk, type AskText } from '../prompt';
import { accountText, awsAnswers, treeReader } from '../site/generator';
import type { SiteStorageGeneratorSchema } from './schema';

/**
 * `nx g site-storage <id> --storage=s3|local`: where an existing site's files live. The plan (config
 * rewrite keeping ids and settings, the Terraform files of an S3 site) is planStorageChange's; the data
 * folder is not touched, so the next run's `upload` pushes what is already there.
 */
export default async function siteStorageGenerator(tree: Tree, options: SiteStorageGeneratorSchema, ask: AskText | undefined = isInteractive() ? terminalAsk : undefined) {
  if (options.storage !== 's3' && options.storage !== 'local') {
    throw new Error(`Cannot move site "${options.id}": --storage must be "s3" or "local", not "${String(options.storage)}"`);
  }
  const aws: { awsAccountId?: string; region?: string } = options.storage === 's3' ? await awsAnswers(options, ask) : {};
  const plan = await planStorageChange(treeReader(tree), {
    id: options.id,
    storage: options.storage,
    ...aws,
    automationRoleName: options.automationRoleName,
    centralAccountId: accountText(options.centralAccountId),
    stateBucket: options.stateBucket,
  });
  if (plan.problems.length) throw new Error(`Cannot move site "${options.id}":\n${formatProblems(plan.problems)}`);
  for (const file of plan.files) tree.write(file.path, file.content);
  return () => {
    logger.info(
      options.storage === 's3'
        ? [
            `Site "${options.id}" now keeps its files in S3 (bucket of account ${aws.awsAccountId}); its episodes, transcripts and ids stay as they are.`,
            'Next: npx nx run tools:validate-terraform, plan and apply the site as terraform/README.md describes,',
            `then npx nx run ${options.id}:index: its upload pushes everything data/${options.id}/ holds to the new bucket.`,
          ].join('\n')
        : [
            `Site "${options.id}" now keeps its files on this machine and builds its index here; its episodes, transcripts and ids stay as they are.`,
            `Its Terraform files are left as they were: destroy the site's cloud resources with them first if you no longer want them, then delete them. Next: npx nx run ${options.id}:index.`,
          ].join('\n'),
    );
  };
}
