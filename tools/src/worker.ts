// `nx run tools:worker`: a transcription queue worker (see --help).
export { workerMain as main } from './queue-tools';
