import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTone } from '@podline/media/testing';
import {
  cliSuppression,
  EngineError,
  findWhisperCli,
  getEngine,
  NON_SPEECH_TOKENS_REGEX,
  parseWhisperCliOutput,
  transcribeAudio,
  whisperCliArgs,
  whisperCliEngine,
  whisperParams,
  type EngineSettings,
} from './index';
import { writeTestModel } from './testing';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-cli-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const settings = (over: Partial<EngineSettings> = {}): EngineSettings => ({ workspaceRoot: root, model: 'cli', language: 'en', threads: 2, beamSize: 1, ...over });

describe('whisper-cli engine', () => {
  it('is registered next to whisper; unknown engines are named', () => {
    expect(getEngine('whisper-cli')).toBe(whisperCliEngine);
    expect(() => getEngine('cloud')).toThrow(new EngineError('unknown transcription engine "cloud"'));
  });

  it('passes the same decoding settings as the built-in engine', () => {
    expect(whisperCliArgs('/m.bin', settings())).toEqual(['-m', '/m.bin', '-f', '-', '-t', '2', '-bs', '1', '-bo', '5', '-l', 'en', '-mc', '0', '-et', '2.4', '-lpt', '-1', '-sns', '-np']);
    expect(whisperCliArgs('/m.bin', settings({ beamSize: 4, prompt: 'Hi', noFallback: true, language: '' }), 'none')).toEqual(
      // With a prompt no -mc 0: whisper.cpp would drop the prompt with the context (each window is its own process).
      ['-m', '/m.bin', '-f', '-', '-t', '2', '-bs', '4', '-bo', '5', '-l', 'auto', '--prompt', 'Hi', '-et', '2.4', '-lpt', '-1', '-nf', '-np'],
    );
    // No text context between windows, as the built-in engine's no_context.
    expect(whisperParams(settings())).toMatchObject({ no_context: true, suppress_non_speech_tokens: true });
  });

  it('suppresses non-speech tokens on both engines alike, or on neither', () => {
    const off = settings({ suppressNonSpeech: false });
    expect(whisperParams(off)).toMatchObject({ suppress_non_speech_tokens: false });
    for (const how of ['flag', 'regex', 'none'] as const) expect(whisperCliArgs('/m.bin', off, how)).not.toEqual(expect.arrayContaining(['-sns', '--suppress-regex']));
    const viaRegex = whisperCliArgs('/m.bin', settings(), 'regex');
    expect(viaRegex.slice(viaRegex.indexOf('--suppress-regex'), viaRegex.indexOf('--suppress-regex') + 2)).toEqual(['--suppress-regex', NON_SPEECH_TOKENS_REGEX]);
    // The pattern (whole-token match, as whisper.cpp applies it) hits whisper.cpp's non-speech tokens, alone and
    // after a space, " -" and " '", and nothing a word is made of.
    const whole = new RegExp(`^(?:${NON_SPEECH_TOKENS_REGEX})$`);
    for (const t of ['[', ' [', '(', '"', ' "', '\\', '♪', ' ♪♪♪', '>>>', ' --', '("', ' -', " '", '|', '))', '{{']) expect(whole.test(t)).toBe(true);
    for (const t of ['-', "'", 'a', ' the', ' [MUSIC]', '[_extra_token_1]', ' ♪a', '.', ',', '?', '!', ' ((((']) expect(whole.test(t)).toBe(false);
  });

  it('uses the CLI\'s own --suppress-nst when its build has one', () => {
    const bin = path.join(root, 'help-bin');
    mkdirSync(bin, { recursive: true });
    const newer = path.join(bin, 'whisper-cli-new');
    const older = path.join(bin, 'whisper-cli-old');
    writeFileSync(newer, '#!/bin/sh\necho "  -sns,      --suppress-nst      [false  ] suppress non-speech tokens" >&2\n');
    writeFileSync(older, '#!/bin/sh\necho "  --suppress-regex REGEX" >&2\n');
    chmodSync(newer, 0o755);
    chmodSync(older, 0o755);
    expect(cliSuppression(newer)).toBe('flag');
    expect(cliSuppression(older)).toBe('none');
  });

  it('reads result lines to the millisecond and ignores the rest', () => {
    const out = 'whisper_init: loading\n[00:00:00.000 --> 00:00:02.340]   Hello there.\n\n[01:00:02.500 --> 01:00:04.000]  Later.\nmain: done\n';
    expect(parseWhisperCliOutput(out)).toEqual([
      { startMs: 0, endMs: 2340, text: 'Hello there.' },
      { startMs: 3602500, endMs: 3604000, text: 'Later.' },
    ]);
  });

  it('finds the binary through WHISPER_CLI_PATH or PATH, and says what to do without one', () => {
    const bin = path.join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'whisper-cli'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'whisper-cli'), 0o755);
    expect(findWhisperCli({ PATH: bin })).toBe(path.join(bin, 'whisper-cli'));
    expect(findWhisperCli({ WHISPER_CLI_PATH: path.join(bin, 'whisper-cli'), PATH: '' })).toBe(path.join(bin, 'whisper-cli'));
    expect(() => findWhisperCli({ WHISPER_CLI_PATH: path.join(bin, 'nope') })).toThrow(/WHISPER_CLI_PATH .* not an executable/);
    const err = (() => {
      try {
        findWhisperCli({ PATH: '' });
      } catch (e) {
        return e as EngineError;
      }
    })();
    expect(err?.message).toBe('engine whisper-cli was chosen but no whisper-cli binary was found');
    expect(err?.fix).toMatch(/WHISPER_CLI_PATH/);
  });

  // A real whisper.cpp CLI (e.g. the one the benchmark builds from smart-whisper's vendored source).
  const cli = process.env.WHISPER_CLI_PATH ?? path.resolve(__dirname, '../../../tmp/bench-transcribe/whisper.cpp/main');
  (existsSync(cli) ? it : it.skip)('transcribes windows through a real whisper.cpp CLI on stdin', async () => {
    const before = process.env.WHISPER_CLI_PATH;
    process.env.WHISPER_CLI_PATH = cli;
    await writeTestModel(path.join(root, 'models', 'ggml-cli.bin'), { kind: 'random', seed: 9 });
    const audio = await makeTone(path.join(root, 'tone.mp3'), 4, 500);
    const session = await whisperCliEngine.open(settings({ noFallback: true })).finally(() => {
      if (before === undefined) delete process.env.WHISPER_CLI_PATH;
      else process.env.WHISPER_CLI_PATH = before;
    });
    const result = await transcribeAudio(audio, session, { windowSeconds: 2 });
    expect(result.durationSeconds).toBeCloseTo(4, 1);
    expect(result.segments.length).toBeGreaterThan(0);
    for (const s of result.segments) expect(s.endMs).toBeLessThanOrEqual(4000);
  });
});
