export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  force?: boolean;
  threads?: number;
  beamSize?: number;
  maxEpisodes?: number;
  engine?: '' | 'whisper' | 'whisper-cli';
  model?: string;
  vad?: boolean;
}
