import { EngineError, type TranscriptionEngine } from './engine';
import { whisperCliEngine } from './whisper-cli-engine';
import { whisperEngine } from './whisper-engine';

/** Every engine by its config name. A new engine is one module plus one line here. */
export const ENGINES: Record<string, TranscriptionEngine> = {
  [whisperEngine.name]: whisperEngine,
  [whisperCliEngine.name]: whisperCliEngine,
};

export function getEngine(name: string): TranscriptionEngine {
  const engine = ENGINES[name];
  if (!engine) throw new EngineError(`unknown transcription engine "${name}"`, `use one of: ${Object.keys(ENGINES).join(', ')}`);
  return engine;
}
