// The same site graph as @podline/ingest infers (targets, dependsOn, cache, inputs, outputs),
// backed by executors that do nothing.
'use strict';
const path = require('node:path');

const PIPELINE = ['pre-sync', 'check', 'rss', 'transcribe', 'upload', 'index'];
const OUTWARD = new Set(['pre-sync', 'check', 'rss']);

function targets(id) {
  const out = {};
  PIPELINE.forEach((name, i) => {
    const inputs = ['default', { env: 'PODLINE_DATA_DIR' }, { env: 'PODLINE_MODELS_DIR' }];
    if (name === 'transcribe' || name === 'index') inputs.push({ dependentTasksOutputFiles: '**/*.json' });
    if (name === 'upload') inputs.push({ dependentTasksOutputFiles: '**/*.json', transitive: true });
    out[name] = {
      executor: `podline-floor:${name}`,
      dependsOn: i === 0 ? [] : [PIPELINE[i - 1]],
      cache: !OUTWARD.has(name),
      inputs,
      outputs: [`{workspaceRoot}/.podline/state/${id}/${name}.json`],
      options: {},
    };
  });
  return out;
}

exports.createNodes = [
  'sites/*/site.config.json',
  (files) =>
    files.map((file) => {
      const root = path.dirname(file);
      const id = path.basename(root);
      return [file, { projects: { [root]: { name: id, root, tags: ['site'], targets: targets(id) } } }];
    }),
];
