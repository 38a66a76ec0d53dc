import * as path from 'node:path';
import { modelsDir, PodlineError } from '@podline/config';
import { inspectModelFile, type ModelInspection } from './ggml';

/** The command that fetches a named model into the models folder. */
export function downloadCommand(model: string): string {
  return `npx nx run tools:download-model --model=${model}`;
}

/** True when the config names a file rather than a model (base.en, small, large-v3…). */
function isPath(model: string): boolean {
  return /[\\/]/.test(model) || model.endsWith('.bin');
}

/** Where a model lives: `<models dir>/ggml-<model>.bin`, or the given path (relative to the workspace). */
export function modelFile(workspaceRoot: string, model: string, env: NodeJS.ProcessEnv = process.env): string {
  return isPath(model) ? path.resolve(workspaceRoot, model) : path.join(modelsDir(workspaceRoot, env), `ggml-${model}.bin`);
}

/** A model that is missing or unusable: what is expected, where, and how to fix it. */
export class ModelError extends PodlineError {
  declare readonly fix: string;
  constructor(message: string, fix: string) {
    super(message, { fix });
  }
}

/**
 * Check the model before any native code sees it (whisper.cpp aborts the process on a bad file):
 * it must exist and be a structurally complete ggml model.
 */
export async function checkModel(workspaceRoot: string, model: string, env: NodeJS.ProcessEnv = process.env): Promise<{ file: string; inspection: ModelInspection }> {
  const file = modelFile(workspaceRoot, model, env);
  const fetchFix = isPath(model)
    ? `put a whisper.cpp ggml model at ${file}, or set transcription.model to a model name such as base.en and run ${downloadCommand('base.en')}`
    : `run ${downloadCommand(model)}`;
  let inspection: ModelInspection;
  try {
    inspection = await inspectModelFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new ModelError(`Whisper model "${model}" is missing: expected ${file}`, fetchFix);
    }
    throw new ModelError(
      `Whisper model "${model}" at ${file} is not a usable whisper.cpp model: ${e.message}`,
      isPath(model) ? fetchFix : `delete it and run ${downloadCommand(model)}`,
    );
  }
  return { file, inspection };
}
