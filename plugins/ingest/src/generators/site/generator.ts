import { logger, type Tree } from '@nx/devkit';
import { formatProblems } from '@podline/config';
import { planNewSite, type WorkspaceReader } from '@podline/terraform-check';
import type { SiteGeneratorSchema } from './schema';

/** The Nx tree as the read-only view @podline/terraform-check works on. */
export function treeReader(tree: Tree): WorkspaceReader {
  return {
    read: (file) => (tree.exists(file) && tree.isFile(file) ? (tree.read(file, 'utf8') ?? undefined) : undefined),
    children: (dir) => (tree.exists(dir) ? tree.children(dir) : []),
  };
}

/**
 * `nx g site <id>`: a new site's config and Terraform files. All decisions (validation with the config
 * loader's rules, whether this site creates its account's automation role) are made by planNewSite;
 * this only writes the planned files into the tree, so `--dry-run` lists them and writes nothing.
 */
export default async function siteGenerator(tree: Tree, options: SiteGeneratorSchema) {
  // Account ids typed on the command line arrive as numbers (the parser keeps ones with a leading zero
  // as strings, so the decimal text is exact).
  const plan = await planNewSite(treeReader(tree), {
    id: options.id,
    title: options.title,
    feedUrl: options.feedUrl,
    awsAccountId: String(options.awsAccountId),
    region: options.region,
    podcastId: options.podcastId,
    automationRoleName: options.automationRoleName,
    centralAccountId: options.centralAccountId === undefined ? undefined : String(options.centralAccountId),
    stateBucket: options.stateBucket,
  });
  if (plan.problems.length) {
    throw new Error(`Cannot add site "${options.id}":\n${formatProblems(plan.problems)}`);
  }
  for (const file of plan.files) tree.write(file.path, file.content);
  return () => {
    logger.info(
      [
        `Site "${options.id}" added${plan.createsAutomationRole ? ` (it creates the automation role of account ${options.awsAccountId})` : ''}.`,
        'Next: npx nx run tools:validate-terraform, then plan and apply it as terraform/README.md describes.',
      ].join('\n'),
    );
  };
}
