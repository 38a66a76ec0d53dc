// What other projects use from this lib, by name (everything else is internal).
export { loadAutomationConfig } from './env';
export { AwsSiteError } from './errors';
export { INVOCATION_TYPES, type InvocationType, invokeSiteFunction, resolveInvocationType, SITE_INVOCATION } from './lambda';
export { sessionCacheIn, siteCredentialsProvider } from './sessions';
