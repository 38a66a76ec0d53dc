export * from './ggml';
export * from './srt';
export * from './publisher';
export * from './model';
export * from './engine';
export * from './engines';
export * from './whisper-engine';
export * from './whisper-cli-engine';
export * from './transcribe-audio';
export * from './records';
export * from './transcribe-site';
/** Generated whisper.cpp-format models, for tests and benchmarks (no real model needed). */
export * from './testing/ggml-writer';
export * from './testing/timed-engine';
