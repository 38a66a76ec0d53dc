import { EngineError, type TranscriptionEngine } from './engine';
import { whisperCliEngine } from './whisper-cli-engine';
import { whisperEngine } from './whisper-engine';
import { timedEngine } from './testing/timed-engine';

/** Every engine by its config name. A new engine is one module plus one line here. */
export const ENGINES: Record<string, TranscriptionEngine> = {
  [whisperEngine.name]: whisperEngine,
  [whisperCliEngine.name]: whisperCliEngine,
  // Fixed cost per window, for tests and benchmarks of the queue and its workers (never a site's engine).
  [timedEngine.name]: timedEngine,
};

export function getEngine(name: string): TranscriptionEngine {
  const engine = ENGINES[name];
  if (!engine) throw new EngineError(`unknown transcription engine "${name}"`, `use one of: ${Object.keys(ENGINES).join(', ')}`);
  return engine;
}
