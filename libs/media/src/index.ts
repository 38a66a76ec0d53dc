export * from './ffmpeg-binary';
export { SAMPLE_RATE } from './fluent';
export * from './decode';
export * from './wav';
export { makeTone } from './testing/audio';
