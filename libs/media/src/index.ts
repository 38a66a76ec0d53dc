// What other projects use from this lib, by name (everything else is internal).
export { decodePcmWindows, DEFAULT_WINDOW_SECONDS, pcmFileWindows, type PcmWindow } from './decode';
export { type FfmpegBinary, findFfmpeg, findOnPath, MediaError } from './ffmpeg-binary';
export { SAMPLE_RATE } from './fluent';
export { encodeWav16 } from './wav';
