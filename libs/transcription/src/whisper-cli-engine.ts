import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { encodeWav16, findOnPath } from '@podline/media';
import { EngineError, whisperEnv, type EngineSettings, type TranscriptionEngine } from './engine';
import { checkModel } from './model';
import { WHISPER_GUARDS } from './whisper-engine';
import { parseTimestamp, type Segment } from './srt';

/** whisper.cpp's CLI: $WHISPER_CLI_PATH, else `whisper-cli` on PATH. */
export function findWhisperCli(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.WHISPER_CLI_PATH;
  if (fromEnv) {
    try {
      accessSync(fromEnv, constants.X_OK);
      return fromEnv;
    } catch {
      throw new EngineError(`WHISPER_CLI_PATH is set to "${fromEnv}", which is not an executable file`, 'fix or unset WHISPER_CLI_PATH');
    }
  }
  const onPath = findOnPath('whisper-cli', env);
  if (!onPath) {
    throw new EngineError('engine whisper-cli was chosen but no whisper-cli binary was found', 'install whisper.cpp (whisper-cli on PATH) or set WHISPER_CLI_PATH, or use engine "whisper"');
  }
  return onPath;
}

/** CLI arguments for one window read as WAV from stdin; greedy unless a beam is asked for. */
export function whisperCliArgs(modelPath: string, s: EngineSettings): string[] {
  return [
    '-m', modelPath,
    '-f', '-',
    '-t', String(s.threads),
    '-bs', String(Math.max(1, s.beamSize)),
    '-bo', '5',
    '-l', s.language || 'auto',
    ...(s.prompt ? ['--prompt', s.prompt] : []),
    '-et', String(WHISPER_GUARDS.entropyThreshold),
    '-lpt', String(WHISPER_GUARDS.logprobThreshold),
    ...(s.noFallback ? ['-nf'] : []),
    '-np', // results only
  ];
}

/** Segments from the CLI's result lines: `[00:00:01.000 --> 00:00:04.500]  text`. */
export function parseWhisperCliOutput(stdout: string): Segment[] {
  const out: Segment[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\[(\d+:\d{2}:\d{2}\.\d{3}) --> (\d+:\d{2}:\d{2}\.\d{3})\]\s?(.*)$/.exec(line.trim());
    if (m) out.push({ startMs: parseTimestamp(m[1]), endMs: parseTimestamp(m[2]), text: m[3].trim() });
  }
  return out;
}

/** An installed whisper.cpp CLI (for operators with a GPU build), fed each window as WAV on stdin. */
export const whisperCliEngine: TranscriptionEngine = {
  name: 'whisper-cli',
  async check(settings) {
    await checkModel(settings.workspaceRoot, settings.model);
    findWhisperCli();
  },
  async open(settings) {
    const { file } = await checkModel(settings.workspaceRoot, settings.model);
    const bin = findWhisperCli();
    settings.debug?.(`whisper-cli: ${bin} with model ${file}`);
    return {
      transcribe: (pcm) =>
        new Promise<Segment[]>((resolve, reject) => {
          const child = spawn(bin, whisperCliArgs(file, settings), { stdio: ['pipe', 'pipe', 'pipe'], env: whisperEnv() });
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
          child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
          child.on('error', (err) => reject(new EngineError(`could not run ${bin}: ${err.message}`)));
          child.on('close', (code, signal) => {
            if (code === 0) resolve(parseWhisperCliOutput(stdout));
            else {
              const tail = stderr.split('\n').filter((l) => l.trim()).slice(-3).join(' / ');
              reject(new EngineError(`${bin} failed (${signal ? `signal ${signal}` : `exit code ${code}`})${tail ? `: ${tail}` : ''}`));
            }
          });
          child.stdin.on('error', () => undefined); // a crash surfaces through 'close'
          child.stdin.end(encodeWav16(pcm));
        }),
      close: async () => undefined,
    };
  },
};
