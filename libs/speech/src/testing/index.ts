/** Audio with a known layout (speech, music, silence), for tests and benchmarks: `@podline/speech/testing`. */
export { podcastLayout, writeLayoutAudio, type LayoutPart, type LayoutSpec } from './speech-audio';
