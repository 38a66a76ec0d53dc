/**
 * transcribe benchmark (run on demand, never in tests):
 *
 *   npx nx run bench:transcribe [--case=podcast,speech|fixed] [--minutes=10] [--speech-minutes=2]
 *     [--contended=true] [--contended-seconds=30] [--quantized=q8_0,q5_0] [--suppress=false] [--cli-context=true]
 *     [--threads=<all cores>] [--runs=1] [--model=<name or path>] [--size=tiny.en|base.en] [--fallback=true|false]
 *     [--seconds=120 (fixed)] [--input=wav|mp3 (fixed)]
 *
 * --case=podcast,speech (default): speech windows (VAD) against the CLI on a podcast-like clip of --minutes
 * and a plain-speech clip of --speech-minutes, quantized models against f16, and the contended rows
 * (speech.ts). --case=fixed: the fixed-window path without VAD against the CLI (below).
 *
 * Same audio samples, same model file, same threads, greedy decoding: Podline's whole transcribe
 * path (file → ffmpeg decode → windows → smart-whisper in its child process → segments) against
 * whisper.cpp's own CLI (`main`) built from the very source smart-whisper vendors. Both read the
 * same 16 kHz WAV by default, so both decode exactly the same samples (a model's output, hence its
 * decoding work, changes with the slightest input difference); the podcast MP3's decode cost is
 * measured on its own and reported as a share of Podline's time.
 * Prints × real time for both, the throughput ratio, the decode share, and whether the addon has
 * AVX2/FMA code. Work files go to tmp/bench-transcribe (gitignored); results to bench/results/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePcmWindows, findFfmpeg, findOnPath } from '@podline/media';
import { checkModel, cliSuppression, defaultThreads, modelFile, transcribeAudio, whisperCliArgs, whisperEngine, whisperEnv, type EngineSettings } from '@podline/transcription';
import { QUANTIZED_FTYPE, REALISTIC_HPARAMS, writeTestModel } from '@podline/transcription/testing';
import { benchArgs, benchHelp } from '../args';
import { speechBench } from './speech';

benchHelp(
  'npx nx run bench:transcribe [--case=podcast,speech|fixed] [--minutes=10] [--speech-minutes=2] [--contended=true] [--contended-seconds=30] [--quantized=q8_0,q5_0] [--suppress=false] [--cli-context=true] [--threads=<all cores>] [--runs=1] [--model=<name or path>] [--size=tiny.en|base.en] [--fallback=true|false] [--seconds=120 (fixed)] [--input=wav|mp3 (fixed)]',
);

const args = benchArgs;
const ROOT = path.resolve(__dirname, '..', '..');
const WORK = path.join(ROOT, 'tmp', 'bench-transcribe');
const SECONDS = Number(args.seconds ?? 120);
const MINUTES = Number(args.minutes ?? 10);
const THREADS = Number(args.threads ?? defaultThreads());
const RUNS = Math.max(1, Number(args.runs ?? (args.case === 'fixed' ? 2 : 1)));
const SIZE = (args.size ?? 'tiny.en') as keyof typeof REALISTIC_HPARAMS;
const INPUT = args.input === 'mp3' ? 'mp3' : 'wav';

const fmt = (n: number, d = 2) => n.toFixed(d);
const best = (xs: number[]) => Math.min(...xs);

function log(msg: string) {
  process.stdout.write(`${msg}\n`);
}

/** whisper.cpp's CLI: $WHISPER_CLI_PATH, else built once from smart-whisper's vendored source with its own Makefile. */
function whisperCli(): string {
  if (process.env.WHISPER_CLI_PATH) return process.env.WHISPER_CLI_PATH;
  const src = path.join(WORK, 'whisper.cpp');
  const bin = path.join(src, 'main');
  if (existsSync(bin)) return bin;
  log(`building whisper.cpp's CLI from smart-whisper's vendored source into ${path.relative(ROOT, src)} (a few minutes)…`);
  cpSync(path.join(ROOT, 'node_modules', 'smart-whisper', 'whisper.cpp'), src, { recursive: true });
  // The npm package leaves out this include of the Makefile; upstream it only adds warning flags.
  mkdirSync(path.join(src, 'scripts'), { recursive: true });
  const flags = path.join(src, 'scripts', 'get-flags.mk');
  if (!existsSync(flags)) writeFileSync(flags, '# not shipped in the npm package; upstream it only adds compiler warning flags\n');
  const res = spawnSync('make', [`-j${os.cpus().length}`, 'main'], { cwd: src, stdio: ['ignore', 'ignore', 'inherit'] });
  if (res.status !== 0 || !existsSync(bin)) throw new Error('building whisper.cpp main failed (needs make and a C++ compiler)');
  return bin;
}

/** The model: --model, else a real models/ggml-base.en.bin, else a generated random-weights model of realistic shape. */
async function benchModel(): Promise<{ file: string; kind: string }> {
  if (args.model) return { file: (await checkModel(ROOT, args.model)).file, kind: `given (${args.model})` };
  const real = modelFile(ROOT, 'base.en');
  if (existsSync(real)) return { file: (await checkModel(ROOT, 'base.en')).file, kind: 'real base.en' };
  const file = path.join(WORK, `ggml-random-${SIZE}.bin`);
  if (!existsSync(file)) {
    log(`generating a random-weights model shaped like ${SIZE}…`);
    await writeTestModel(file, { kind: 'random', hparams: REALISTIC_HPARAMS[SIZE], seed: 1 });
  }
  await checkModel(ROOT, file);
  return { file, kind: `random weights, ${SIZE} shape` };
}

/**
 * A quantized model of the same shape: generated beside a generated model; for a given or real model, the
 * file whisper.cpp's naming puts beside it (ggml-base.en-q5_0.bin), if present.
 */
async function quantizedModel(model: { file: string; kind: string }, q: keyof typeof QUANTIZED_FTYPE): Promise<string | undefined> {
  const file = model.file.replace(/\.bin$/, `-${q}.bin`);
  if (model.kind.startsWith('random') && !existsSync(file)) {
    log(`generating a random-weights ${q} model shaped like ${SIZE}…`);
    await writeTestModel(file, { kind: 'random', hparams: { ...REALISTIC_HPARAMS[SIZE], ftype: QUANTIZED_FTYPE[q] }, seed: 1 });
  }
  if (!existsSync(file)) return undefined;
  await checkModel(ROOT, file);
  return file;
}

/** Test audio: espeak-ng speech when installed, else a tone with noise; a podcast-like MP3 and a 16 kHz WAV of it. */
function benchAudio(): { mp3: string; wav: string; kind: string } {
  const ffmpeg = findFfmpeg().path;
  const mp3 = path.join(WORK, `audio-${SECONDS}s.mp3`);
  const wav = path.join(WORK, `audio-${SECONDS}s.wav`);
  let kind = 'tone + noise (ffmpeg lavfi)';
  const espeak = findOnPath('espeak-ng');
  if (!existsSync(mp3)) {
    let source: string[];
    if (espeak) {
      const speech = path.join(WORK, 'speech.wav');
      const text = 'Welcome back to the show. Today we talk about podcasts, search and transcripts made on your own machine. '.repeat(Math.ceil(SECONDS / 6));
      execFileSync(espeak, ['-w', speech, text]);
      source = ['-i', speech];
    } else {
      source = ['-f', 'lavfi', '-i', `sine=frequency=220:duration=${SECONDS}`, '-f', 'lavfi', '-i', `anoisesrc=amplitude=0.05:duration=${SECONDS}`, '-filter_complex', 'amix=inputs=2'];
    }
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...source, '-t', String(SECONDS), '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
  }
  if (espeak) kind = 'speech (espeak-ng)';
  if (!existsSync(wav)) execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', mp3, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', wav]);
  return { mp3, wav, kind };
}

/** Does the addon contain AVX2 (256-bit ymm) and FMA instructions? */
function addonSimd(): { ymm: number; zmm: number; fma: number; marker: string } {
  const addon = path.join(ROOT, 'node_modules', 'smart-whisper', 'build', 'Release', 'smart-whisper.node');
  const marker = path.join(path.dirname(addon), '.podline-simd');
  let ymm = -1;
  let zmm = -1;
  let fma = -1;
  try {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', addon], { maxBuffer: 1 << 30 }).toString();
    ymm = (asm.match(/%ymm/g) ?? []).length;
    zmm = (asm.match(/%zmm/g) ?? []).length;
    fma = (asm.match(/\bvfmadd/g) ?? []).length;
  } catch {
    /* no objdump */
  }
  return { ymm, zmm, fma, marker: existsSync(marker) ? require('node:fs').readFileSync(marker, 'utf8') : 'none' };
}

/**
 * Temperature fallback re-decodes a chunk up to 5 times when the text looks like garbage, which
 * random weights always produce: for those models both sides run without it (one greedy pass per
 * chunk, as with real speech and a real model); --fallback=true|false overrides.
 */
let noFallback = false;

async function runPodline(mp3: string, model: string) {
  const t0 = process.hrtime.bigint();
  const session = await whisperEngine.open(fixedSettings(model));
  let result;
  try {
    result = await transcribeAudio(mp3, session);
  } finally {
    await session.close();
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, segments: result.segments.length, audioSeconds: result.durationSeconds, decodeWaitMs: result.decodeWaitMs };
}

/** Both sides' decoding settings; the CLI gets the CLI engine's own arguments for them (with -mc 0, as Podline has no context). */
function fixedSettings(model: string): EngineSettings {
  return { workspaceRoot: ROOT, model, language: 'en', threads: THREADS, beamSize: 1, noFallback, suppressNonSpeech: args.suppress === 'true' };
}

function runCli(cli: string, wav: string, model: string) {
  const cliArgs = whisperCliArgs(model, fixedSettings(model), args.suppress === 'true' ? (cliSuppression(cli) === 'flag' ? 'flag' : 'regex') : 'none').filter((a) => a !== '-np');
  cliArgs[cliArgs.indexOf('-f') + 1] = wav;
  const t0 = process.hrtime.bigint();
  const res = spawnSync(cli, cliArgs, { maxBuffer: 1 << 28, env: whisperEnv() });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 0) throw new Error(`${cli} failed: ${res.stderr.toString().slice(-500)}`);
  const segments = res.stdout.toString().split('\n').filter((l) => l.startsWith('[')).length;
  const systemInfo = res.stderr.toString().split('\n').find((l) => l.startsWith('system_info')) ?? 'n/a';
  return { ms, segments, systemInfo };
}

async function decodeOnly(mp3: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  for await (const w of decodePcmWindows(mp3)) void w;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  const cli = whisperCli();
  const model = await benchModel();
  noFallback = args.fallback ? args.fallback === 'false' : model.kind.startsWith('random');
  const cases = (args.case ?? 'podcast,speech').split(',').filter(Boolean);
  if (!cases.includes('fixed')) {
    const quantized: Record<string, string> = {};
    for (const q of (args.quantized ?? 'q8_0,q5_0').split(',').filter(Boolean)) {
      if (!(q in QUANTIZED_FTYPE)) throw new Error(`unknown --quantized ${q} (${Object.keys(QUANTIZED_FTYPE).join(', ')})`);
      const file = await quantizedModel(model, q as keyof typeof QUANTIZED_FTYPE);
      if (file) quantized[q] = file;
      else log(`(no ${q} model beside ${path.relative(ROOT, model.file)}: its row is left out)`);
    }
    const suppress = args.suppress === 'true';
    log(`model: ${model.kind} (${path.relative(ROOT, model.file)}); threads: ${THREADS}; greedy${noFallback ? ', no temperature fallback' : ''}; runs: ${RUNS}`);
    log('(shared machine: figures vary with the other work on it; compare within one run only)');
    const input = {
      root: ROOT,
      work: WORK,
      podcastSeconds: MINUTES * 60,
      speechSeconds: Number(args['speech-minutes'] ?? MINUTES / 5) * 60,
      contendedSeconds: Number(args['contended-seconds'] ?? Math.min(30, MINUTES * 15)),
      threads: THREADS,
      runs: RUNS,
      cli,
      model: model.file,
      quantized,
      noFallback,
      suppress,
      cliContext: args['cli-context'] !== 'false',
      contended: args.contended !== 'false',
      log,
    };
    const started = Date.now();
    const results = await speechBench(input, cases);
    log(`
benchmark time: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const out = path.join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const file = path.join(out, `transcribe-speech-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ minutes: MINUTES, threads: THREADS, model: model.kind, noFallback, suppress, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavg: os.loadavg(), results }, null, 2));
    log(`\nresults: ${path.relative(ROOT, file)}`);
    return;
  }
  const audio = benchAudio();
  const simd = addonSimd();
  log(`audio: ${SECONDS} s, ${audio.kind}; model: ${model.kind} (${path.relative(ROOT, model.file)}); threads: ${THREADS}; greedy${noFallback ? ', no temperature fallback' : ''}; runs: ${RUNS}`);
  const ours: Array<Awaited<ReturnType<typeof runPodline>>> = [];
  const theirs: Array<ReturnType<typeof runCli>> = [];
  const decode: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order so neither side always runs on a warmer cache.
    if (i % 2 === 0) {
      ours.push(await runPodline(audio[INPUT], model.file));
      theirs.push(runCli(cli, audio.wav, model.file));
    } else {
      theirs.push(runCli(cli, audio.wav, model.file));
      ours.push(await runPodline(audio[INPUT], model.file));
    }
    decode.push(await decodeOnly(audio.mp3));
    log(`  run ${i + 1}: podline ${fmt(ours[i].ms / 1000)} s, whisper.cpp CLI ${fmt(theirs[i].ms / 1000)} s, decode alone ${fmt(decode[i])} ms`);
  }
  const oursMs = best(ours.map((r) => r.ms));
  const cliMs = best(theirs.map((r) => r.ms));
  const oursX = (SECONDS * 1000) / oursMs;
  const cliX = (SECONDS * 1000) / cliMs;
  const ratio = oursX / cliX;
  const decodeShare = best(decode) / oursMs;
  const decodeWaitShare = best(ours.map((r) => r.decodeWaitMs)) / oursMs;
  const rows: Array<[string, string]> = [
    [`podline transcribe (${INPUT.toUpperCase()} in, best)`, `${fmt(oursMs / 1000)} s = ${fmt(oursX)}× real time (${ours[0].segments} segments)`],
    ['whisper.cpp CLI (WAV in, best)', `${fmt(cliMs / 1000)} s = ${fmt(cliX)}× real time (${theirs[0].segments} segments)`],
    ['same output size', ours[0].segments === theirs[0].segments ? 'yes' : 'NO: different work, ratio not comparable'],
    ['throughput ratio podline / CLI', `${fmt(ratio, 3)} (goal ≥ 0.95: ${ratio >= 0.95 ? 'met' : 'NOT met'})`],
    ['MP3 decode share (ffmpeg alone / podline)', `${fmt(decodeShare * 100, 1)} % (goal ≤ 5 %: ${decodeShare <= 0.05 ? 'met' : 'NOT met'})`],
    ['decode wait not overlapped', `${fmt(decodeWaitShare * 100, 1)} %`],
    ['addon ymm (AVX2) / zmm (AVX-512) / vfmadd', `${simd.ymm} / ${simd.zmm} / ${simd.fma} (${simd.ymm > 0 && simd.fma > 0 ? 'AVX2+FMA code present' : 'NO AVX2/FMA code'}); build marker ${simd.marker}`],
    ['CPU', `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, avx2 ${/\bavx2\b/.test(require('node:fs').readFileSync('/proc/cpuinfo', 'utf8')) ? 'yes' : 'no'}`],
    ['CLI system_info', theirs[0].systemInfo.replace(/^system_info:\s*/, '')],
  ];
  log('');
  for (const [k, v] of rows) log(`  ${k.padEnd(40)} ${v}`);
  const out = path.join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = path.join(out, `transcribe-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ seconds: SECONDS, threads: THREADS, input: INPUT, noFallback, model: model.kind, audio: audio.kind, ours, theirs, decode, oursX, cliX, ratio, decodeShare, decodeWaitShare, simd }, null, 2));
  log(`\nresults: ${path.relative(ROOT, file)}`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
