// What other projects use from this lib, by name (everything else is internal).
export { CARRY_SAMPLES, defaultVadModelFile, FRAME_SAMPLES, HalfBandDecimator, VAD_SAMPLE_RATE, loadOnnxRuntime, SileroVad, VAD_MODEL_VERSION, VadError } from './vad';
export {
  DEFAULT_VAD_SETTINGS,
  detectSpeech,
  regionsCacheFile,
  speechRegionsDir,
  regionsFromProbabilities,
  speechRegions,
  vadDescription,
  vadSettingsOf,
  type DetectOptions,
  type SpeechRegions,
  type VadSettings,
} from './regions';
export { mapToOriginal, msToSamples, packWindows, samplesToMs, windowAudio, type Piece, type SpeechWindow } from './windows';
export {
  addGuardCounts,
  compressionRatio,
  DEFAULT_GUARD_SETTINGS,
  dropOutsideRegions,
  emptyGuardCounts,
  guardText,
  mapWindowSegments,
  type GuardCounts,
  type GuardSettings,
  type TimedText,
} from './guards';
export { correctSrt, correctText, CorrectionsError, loadCorrections, NO_CORRECTIONS, parseCorrections, type Correction, type Corrections } from './corrections';
