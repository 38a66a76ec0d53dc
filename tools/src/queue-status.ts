// `nx run tools:queue-status`: what the transcription queue holds, per site (see --help).
export { queueStatusMain as main } from './queue-tools';
