// What other projects use from this lib, by name (everything else is internal).
export { EngineError, whisperEnv, type EngineSettings, type TranscriptionEngine } from './engine';
export { ENGINES, getEngine } from './engines';
export { DEFAULT_SPEED, estimateTranscription, formatEstimate, type TranscriptionEstimate } from './estimate';
export { inspectModelFile, ModelFormatError } from './ggml';
export { checkModel, downloadCommand, ModelError, modelFile } from './model';
export { defaultThreads, TRANSCRIBE_DEFAULTS, type TranscribeOptions } from './options';
export { loadSources, rawTranscriptFile, type TranscriptSource } from './records';
export { toSrt, validateSrt } from './srt';
export { DEFAULT_SPEECH_WINDOW_SECONDS, transcribeAudio } from './transcribe-audio';
export { decodeEpisodeAhead, droppedText, EngineTools, transcribeEpisodeAudio, type DecodedAhead, type EngineTranscript, type EpisodeAudio } from './transcribe-episode';
export { type RemoteEpisode, type RemoteRequest, type RemoteTranscriber, type RemoteTranscript, transcribeSite } from './transcribe-site';
export { timedEngine } from './timed-engine';
export { cliSuppression, findWhisperCli, NON_SPEECH_TOKENS_REGEX, parseWhisperCliOutput, whisperCliArgs, whisperCliEngine, type CliSuppression } from './whisper-cli-engine';
export { WHISPER_GUARDS, whisperEngine, whisperParams } from './whisper-engine';
