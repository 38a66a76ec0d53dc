// What other projects use from this lib, by name (everything else is internal).
export { ifExists, isTempOrJunk, stableStringify, TEMP_SUFFIX, tempPathFor, writeFileAtomic, writeJsonAtomic } from './atomic';
export { CONFLICT_MODES, type ConflictMode, DEFAULT_CONFLICT, isConflictMode } from './conflict';
export { withDefaults } from './defaults';
export { sha256, sha256File } from './hash';
export { ConfigError, type ConfigProblem, fixOf, formatProblems, localResourceProblem, PodlineError } from './errors';
export { automationRoleArn, loadSiteConfig, normalizeSiteConfig, parseSiteConfig, resolveFeedUrl, validateSiteConfig } from './load';
export { QUIET_LOG, type Log } from './log';
export { ManifestError, readManifest } from './manifest-io';
export { byKey, compareKeys } from './order';
export { mapLimit } from './pool';
export { backoffMs, retry, type RetryPolicy, type RetryRules } from './retry';
export { acquireLock, isStaleTemp, releaseLocks } from './lock';
export { type EpisodeManifest, type EpisodeRecord, type EpisodeStatus, type TranscriptLink } from './manifest';
export {
  dataFolderSymlinks,
  dataRoot,
  findWorkspaceRoot,
  keys,
  localBucketDir,
  lockFile,
  locksDir,
  MANIFEST_KEY,
  modelsDir,
  refuseSymlinkBelow,
  reportsDir,
  SITE_FOLDERS,
  type SiteFolder,
  SitePaths,
  stateFile,
  stateFileRel,
  SymlinkError,
  symlinkBelow,
  unsafeKeyPart,
} from './paths';
export { PIPELINE, type PipelinePhase } from './pipeline';
export { regionFor, siteRegion } from './region';
export { findSiteConfigs, findSiteConfigsOnDisk, isSiteConfigPath, siteIdClashes, siteIdClashProblem, SITES_DIR } from './sites';
export { clock, stripControl } from './text';
export {
  DEFAULT_AUTOMATION_ROLE_NAME,
  DEFAULT_MAX_AUDIO_MB,
  DEFAULT_MODEL,
  type NetworkConfig,
  type PodcastConfig,
  type SiteConfig,
  type SiteConfigFile,
  type StorageConfig,
} from './types';
export { checkProducts, PRODUCTS_STATE, productsState, recordProducts, TARGETS_WITH_PRODUCTS } from './products';
