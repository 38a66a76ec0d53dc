#!/usr/bin/env node
// `nx run tools:schedule`: see tools/README.md or --help.
require('./run-ts')('schedule', 'scheduleMain');
