export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  force?: boolean;
  threads?: number;
  beamSize?: number;
  maxEpisodes?: number;
  engine?: '' | 'whisper' | 'whisper-cli';
  model?: string;
  wait?: boolean;
  waitTimeout?: number;
  retryFailed?: boolean;
  vad?: boolean;
}
