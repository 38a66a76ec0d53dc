// What other projects use from this lib, by name (everything else is internal).
export { buildAutomationTfvars } from './automation';
export { terraformFmtCheck } from './fmt';
export { parseHcl } from './hcl';
export { planNewSite, planStorageChange, type NewSiteInput, type SiteStorageChoice, type StorageChangeInput } from './new-site';
export { diskReader, type WorkspaceReader } from './reader';
export { validateTerraform } from './validate';
