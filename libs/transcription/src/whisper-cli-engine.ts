import { spawn, spawnSync } from 'node:child_process';
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

/** whisper.cpp's non-speech tokens (its `non_speech_tokens`), suppressed alone and after a space, as are " -" and " '". */
const NON_SPEECH_TOKENS = [
  '"', '#', '(', ')', '*', '+', '/', ':', ';', '<', '=', '>', '@', '[', '\\', ']', '^', '_', '`', '{', '|', '}', '~',
  '「', '」', '『', '』', '<<', '>>', '<<<', '>>>', '--', '---', '-(', '-[', "('", '("', '((', '))', '(((', ')))',
  '[[', ']]', '{{', '}}', '♪♪', '♪♪♪', '♩', '♪', '♫', '♬', '♭', '♮', '♯',
];

/**
 * The same tokens as one pattern for the CLI's `--suppress-regex` (which must match a token's whole text), for
 * a CLI without `--suppress-nst`. whisper.cpp matches it against the whole vocabulary at every decoded token:
 * measured at about 3× the CLI's CPU time on a tiny model, so the engine does not use it (the benchmark does,
 * to compare like with like when asked).
 */
export const NON_SPEECH_TOKENS_REGEX = ` ?(?:${NON_SPEECH_TOKENS.map((t) => t.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|')})| -| '`;

/** How a CLI suppresses non-speech tokens: its own flag (`-sns`, whisper.cpp ≥ 1.7), the pattern above, or not at all. */
export type CliSuppression = 'flag' | 'regex' | 'none';

const suppressionOf = new Map<string, CliSuppression>();

/** Whether the CLI binary `bin` has `--suppress-nst` (asked once per binary through its `--help`): 'flag', else 'none'. */
export function cliSuppression(bin: string): CliSuppression {
  let known = suppressionOf.get(bin);
  if (!known) {
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8', timeout: 10000 });
    known = `${help.stdout ?? ''}${help.stderr ?? ''}`.includes('--suppress-nst') ? 'flag' : 'none';
    suppressionOf.set(bin, known);
  }
  return known;
}

/**
 * CLI arguments for one window read as WAV from stdin; greedy unless a beam is asked for. As in the built-in
 * engine: no text context from one window to the next, whisper.cpp's entropy and logprob thresholds, and
 * non-speech tokens suppressed (unless `suppressNonSpeech` is false) the way `suppression` says the binary can.
 * Each window is its own CLI process, so no context crosses windows anyway; `-mc 0` also stops it inside a
 * window (between its 30 s chunks). whisper.cpp takes the prompt from that same text context, so `-mc 0`
 * would silently drop the site prompt: with a prompt it is left out (the prompt is given to every window).
 */
export function whisperCliArgs(modelPath: string, s: EngineSettings, suppression: CliSuppression = 'flag'): string[] {
  const suppress = s.suppressNonSpeech === false || suppression === 'none' ? [] : suppression === 'flag' ? ['-sns'] : ['--suppress-regex', NON_SPEECH_TOKENS_REGEX];
  return [
    '-m', modelPath,
    '-f', '-',
    '-t', String(s.threads),
    '-bs', String(Math.max(1, s.beamSize)),
    '-bo', '5',
    '-l', s.language || 'auto',
    ...(s.prompt ? ['--prompt', s.prompt] : ['-mc', '0']),
    '-et', String(WHISPER_GUARDS.entropyThreshold),
    '-lpt', String(WHISPER_GUARDS.logprobThreshold),
    ...(s.noFallback ? ['-nf'] : []),
    ...suppress,
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
    const suppression = cliSuppression(bin);
    settings.debug?.(
      `whisper-cli: ${bin} with model ${file}${suppression === 'none' && settings.suppressNonSpeech !== false ? ' (no --suppress-nst in this build: the guards drop tag-only cues)' : ''}`,
    );
    const args = whisperCliArgs(file, settings, suppression);
    return {
      transcribe: (pcm) =>
        new Promise<Segment[]>((resolve, reject) => {
          const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env: whisperEnv() });
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
