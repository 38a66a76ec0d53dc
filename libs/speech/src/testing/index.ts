/** Audio with a known layout (speech, music, silence), for tests and benchmarks: `@podline/speech/testing`. */
export * from './speech-audio';
