#!/usr/bin/env node
// `nx run tools:queue-status`: what the transcription queue holds, per site (see --help).
require('./run-ts')('queue-tools', 'queueStatusMain');
