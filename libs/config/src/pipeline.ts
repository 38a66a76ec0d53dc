/** The phases of a site's pipeline, in the order they run (each one an Nx target of the ingest plugin). */
export const PIPELINE = ['pre-sync', 'check', 'rss', 'transcribe', 'upload', 'index'] as const;
export type PipelinePhase = (typeof PIPELINE)[number];
