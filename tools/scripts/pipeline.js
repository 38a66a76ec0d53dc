#!/usr/bin/env node
// `nx run tools:pipeline`: see tools/README.md or --help.
require('./run-ts')('pipeline', 'pipelineMain');
