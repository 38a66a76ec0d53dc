import { readFile } from 'node:fs/promises';
import { automationRoleArn, ifExists, stateFile, stateFileRel } from '@podline/config';
import {
  AwsSiteError,
  invokeSiteFunction,
  loadAutomationConfig,
  sessionCacheIn,
  resolveInvocationType,
  siteCredentialsProvider,
} from '@podline/aws';
import { sha256 } from '@podline/config';
import type { SiteTask, TaskOutcome } from '../common';
import type { Schema } from './schema';
import { publishPageFromBucket } from './web-page';

/** The deterministic state of Lambda mode: what was asked of which function, for which upload state. */
export interface LambdaIndexState {
  kind: 'lambda';
  functionName: string;
  /** sha256 of the upload state file the function ran for; null when nothing was uploaded yet. */
  inputDigest: string | null;
}


/**
 * Lambda mode: invoke the site's indexing function through its automation role, once per upload state, then
 * publish the site's search page from the index the function left in the bucket (publishPageFromBucket).
 * Nx skips this target when upload's state is unchanged; the digest check makes that hold without the cache too.
 */
export async function runLambda(task: SiteTask<Schema>): Promise<TaskOutcome> {
  const { site, options, log, workspaceRoot, shared } = task;
  if (site.index.kind !== 'lambda') throw new Error('runLambda called for a site without a Lambda index');
  const functionName = site.index.functionName;
  const invocationType = resolveInvocationType(site, options.invocationType);

  const uploadState = await ifExists(readFile(stateFile(workspaceRoot, site.id, 'upload'), 'utf8'));
  if (uploadState === undefined) {
    log.info(`nothing uploaded yet (${stateFileRel(site.id, 'upload')} is missing): ${functionName} not invoked`);
    return { state: { kind: 'lambda', functionName, inputDigest: null } satisfies LambdaIndexState, counts: { invoked: 0 } };
  }
  const inputDigest = sha256(uploadState);
  const previous = await ifExists(readFile(stateFile(workspaceRoot, site.id, 'index'), 'utf8'));
  const state: LambdaIndexState = { kind: 'lambda', functionName, inputDigest };
  if (!options.force && previous) {
    try {
      const prev = JSON.parse(previous) as Partial<LambdaIndexState>;
      if (prev.kind === 'lambda' && prev.functionName === functionName && prev.inputDigest === inputDigest) {
        log.info(`${functionName} already ran for this upload state: not invoked again (--force to invoke anyway)`);
        return withPage(task, { state, counts: { invoked: 0 } });
      }
    } catch {
      /* unreadable previous state: invoke */
    }
  }

  const roleArn = automationRoleArn(site);
  const what = `${functionName} (${invocationType}) as ${roleArn ?? 'no role'} for upload state ${inputDigest.slice(0, 12)}`;
  if (options.dryRun) {
    log.info(`would invoke ${what}`);
    if (site.storage.kind !== 'none') log.info(`would then publish the search page built from the index the function writes to the bucket`);
    return { counts: { wouldInvoke: 1 } };
  }
  try {
    const config = loadAutomationConfig(workspaceRoot);
    const credentials = siteCredentialsProvider(site, config, sessionCacheIn(shared));
    const storage = site.storage.kind === 's3' ? site.storage : undefined;
    log.info(`invoking ${what}`);
    const result = await invokeSiteFunction({
      site,
      functionName,
      invocationType,
      credentials,
      config,
      payload: {
        site: site.id,
        bucket: storage?.bucket,
        prefix: storage?.prefix,
        region: storage?.region,
        endpoint: storage?.endpoint,
        forcePathStyle: storage?.forcePathStyle,
        inputDigest,
      },
    });
    if (result.response !== undefined) log.debug(`${functionName} answered ${JSON.stringify(result.response).slice(0, 500)}`);
    if (invocationType === 'Event') log.info(`${functionName} runs on its own (Event): the search page is built from the index the bucket holds now`);
    return withPage(task, { state, counts: { invoked: 1 } });
  } catch (err) {
    // Leave the state file as it was, so the next run tries again.
    if (err instanceof AwsSiteError) return { problems: [{ site: site.id, message: err.message, fix: err.fix }] };
    return { problems: [{ site: site.id, message: `invoking ${functionName}: ${(err as Error).message}` }] };
  }
}

/** The outcome of the invocation, plus the search page's (its problems are the site's; the state stays: the function ran). */
async function withPage(task: SiteTask<Schema>, outcome: TaskOutcome): Promise<TaskOutcome> {
  if (task.site.storage.kind === 'none') return outcome;
  const page = await publishPageFromBucket(task);
  return { ...outcome, counts: { ...outcome.counts, ...page.counts }, problems: [...(outcome.problems ?? []), ...page.problems] };
}
