export { createNodes, createDependencies, siteTargets, PIPELINE } from './plugin';
export { postTasksExecution, preTasksExecution } from './run-hooks';
