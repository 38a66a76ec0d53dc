// The plugin as nx.json registers it: createNodes, createDependencies and the run hooks of
// `src/index.ts`, run from the compiled bundle (see compiled.js). A `.js` entry also spares every nx command
// the TypeScript transpiler Nx would register in its plugin worker for a `.ts` one — the plugin's own cost
// on a no-op cron run of many sites. The glob is the one of `src/plugin.ts` (a spec checks they agree).
'use strict';
const { load } = require('./compiled');

const plugin = () => load('plugin');

exports.name = '@podline/ingest';
exports.createNodes = ['sites/**/site.config.json', async (files, options, context) => (await plugin()).createNodes[1](files, options, context)];
exports.createDependencies = async (options, context) => (await plugin()).createDependencies(options, context);
exports.preTasksExecution = async (options, context) => (await plugin()).preTasksExecution(options, context);
exports.postTasksExecution = async (options, context) => (await plugin()).postTasksExecution(options, context);
