#!/usr/bin/env node
// `nx run tools:worker`: a transcription queue worker (see --help).
require('./run-ts')('queue-tools', 'workerMain');
