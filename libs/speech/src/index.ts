export * from './vad';
export * from './regions';
export * from './windows';
export * from './guards';
export * from './corrections';
/** Audio with a known layout (speech, music, silence), for tests and benchmarks. */
export * from './testing/speech-audio';
