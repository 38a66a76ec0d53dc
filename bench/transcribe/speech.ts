/**
 * Speech windows against whisper.cpp's CLI (part of the transcribe benchmark, `--case=podcast,speech`):
 * a podcast-like clip (60 s music-like intro, sentences with natural pauses, a music sting now and
 * then, about 20 % non-speech) and a plain-speech clip (short pauses only). Podline: its real episode
 * path (transcribeEpisodeAudio: VAD uncached, then Whisper on the speech windows); the CLI: the whole
 * clip. Same model file, same threads, greedy, same decoding flags (the CLI's arguments are the CLI
 * engine's own, whisperCliArgs), same non-speech suppression on both sides, same OMP_WAIT_POLICY.
 * Then quantized models against f16 on the same audio, and the contended rows (a busy neighbour).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { decodePcmWindows, findFfmpeg, SAMPLE_RATE } from '@podline/media';
import { DEFAULT_VAD_SETTINGS, type SpeechRegions } from '@podline/speech';
import { podcastLayout, writeLayoutAudio, type LayoutPart, type LayoutSpec } from '@podline/speech/testing';
import {
  cliSuppression,
  EngineTools,
  transcribeEpisodeAudio,
  whisperCliArgs,
  whisperEngine,
  whisperEnv,
  type CliSuppression,
  type EngineSettings,
  type TranscriptionEngine,
} from '@podline/transcription';

export interface SpeechBenchInput {
  root: string;
  work: string;
  /** Length of the podcast clip, of the plain-speech clip, and of the clip for the contended rows. */
  podcastSeconds: number;
  speechSeconds: number;
  contendedSeconds: number;
  threads: number;
  runs: number;
  cli: string;
  /** The f16 model, and quantized models of the same shape by name (q8_0…), measured on the plain-speech clip. */
  model: string;
  quantized: Record<string, string>;
  noFallback: boolean;
  /** Suppress non-speech tokens on both sides (the CLI by its -sns, else the same tokens by --suppress-regex). */
  suppress: boolean;
  /** Also run the CLI with its own default text context (no -mc 0) on the plain-speech clip (the shorter one). */
  cliContext: boolean;
  contended: boolean;
  log: (msg: string) => void;
}

/** Continuous speech: sentences with pauses of 0.3–0.8 s and no music. */
function plainSpeechLayout(seconds: number): LayoutSpec {
  const all = podcastLayout(seconds * 1.5, 0, 11).filter((p) => p.kind !== 'music').map((p) => (p.kind === 'silence' && p.seconds > 1 ? { ...p, seconds: 0.6 } : p));
  return upTo(all, seconds);
}

/** The parts of `spec` that fit in `seconds`, then silence to that length. */
function upTo(spec: LayoutSpec, seconds: number): LayoutSpec {
  const out: LayoutSpec = [];
  let t = 0;
  for (const p of spec) {
    const len = p.kind === 'speech' ? (p.seconds ?? 3) : p.seconds;
    if (t + len > seconds) break;
    out.push(p);
    t += len;
  }
  if (seconds - t > 0) out.push({ kind: 'silence', seconds: seconds - t });
  return out;
}

/**
 * The issue's podcast-like clip: a music-like intro of 60 s (a tenth of shorter clips), then sentences of 2–7 s
 * with pauses of 0.3–0.8 s inside paragraphs and 1.5–2.5 s between them; about 20 % non-speech in all at 10 minutes.
 */
function podcastClipLayout(seconds: number): LayoutSpec {
  const intro = Math.min(60, seconds / 10);
  const all = podcastLayout(seconds * 1.2, intro)
    .filter((p, i) => p.kind !== 'music' || i === 0) // no stings: the intro is the music
    .map((p) => (p.kind === 'silence' && p.seconds > 1 ? { ...p, seconds: 1.5 + (p.seconds - 2) / 2 } : p));
  return upTo(all, seconds);
}

async function clip(work: string, name: string, spec: LayoutSpec) {
  const wav = path.join(work, `${name}.wav`);
  const mp3 = path.join(work, `${name}.mp3`);
  const made = await writeLayoutAudio(wav, spec);
  if (!existsSync(mp3)) execFileSync(findFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
  return { wav, mp3, ...made };
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (n: number, d = 2) => n.toFixed(d);

function engineSettings(input: SpeechBenchInput, model: string, threads: number): EngineSettings {
  return { workspaceRoot: input.root, model, language: 'en', threads, beamSize: 1, noFallback: input.noFallback, suppressNonSpeech: input.suppress };
}

/** The built-in engine, counting the segments Whisper returned before the guards (the decoding work both sides did). */
function counting(): { engine: TranscriptionEngine; raw: () => number; calls: () => number } {
  let raw = 0;
  let calls = 0;
  const engine: TranscriptionEngine = {
    name: whisperEngine.name,
    check: (s) => whisperEngine.check(s),
    async open(s) {
      const session = await whisperEngine.open(s);
      return {
        transcribe: async (pcm, onProgress) => {
          const segments = await session.transcribe(pcm, onProgress);
          raw += segments.length;
          calls++;
          return segments;
        },
        close: () => session.close(),
      };
    },
  };
  return { engine, raw: () => raw, calls: () => calls };
}

/** Podline's own path for one episode: VAD (no cache) + Whisper on the speech windows, timed from start to the engine's close. */
async function podline(input: SpeechBenchInput, file: string, options: { model?: string; threads?: number; vad?: boolean } = {}) {
  const cacheDir = mkdtempSync(path.join(input.work, 'regions-'));
  const { engine, raw, calls } = counting();
  const tools = new EngineTools();
  const t0 = process.hrtime.bigint();
  let vadMs = 0;
  let speech: SpeechRegions | undefined;
  try {
    const result = await transcribeEpisodeAudio({
      audio: { file, sha256: 'bench' },
      engine,
      settings: engineSettings(input, options.model ?? input.model, options.threads ?? input.threads),
      tools,
      vad: options.vad === false ? undefined : DEFAULT_VAD_SETTINGS,
      cacheDir,
      onSpeech: (s) => {
        vadMs = s.vadMs; // decoding the audio for the VAD and running it (its model loads once per job)
        speech = s;
      },
    });
    await tools.close();
    return { ms: ms(t0), vadMs, regions: speech?.regions ?? [], raw: raw(), windows: calls(), cues: result.srt.split('-->').length - 1, speechSeconds: result.speechSeconds ?? 0, guards: result.guards };
  } finally {
    await tools.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/**
 * ffmpeg decoding the clip alone, as fast as it goes: the decode every transcription of it needs. The speech
 * pass does it (and keeps it for Whisper's windows, which decoded the file again before), so the VAD's own
 * cost is the pass's time beyond this.
 */
async function decodeOnly(file: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  for await (const w of decodePcmWindows(file, { windowSamples: 60 * SAMPLE_RATE, readAhead: 1 })) void w;
  return ms(t0);
}

/** The CLI on the whole WAV with the CLI engine's own arguments; `context`: leave out -mc 0 (the CLI's default). */
function cli(input: SpeechBenchInput, wav: string, suppression: CliSuppression, options: { threads?: number; context?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  let args = whisperCliArgs(input.model, engineSettings(input, input.model, options.threads ?? input.threads), suppression);
  args[args.indexOf('-f') + 1] = wav;
  if (options.context) args = args.filter((a, i) => !(a === '-mc' || args[i - 1] === '-mc'));
  const t0 = process.hrtime.bigint();
  const res = spawnSync(input.cli, args, { maxBuffer: 1 << 28, env: options.env ?? whisperEnv() });
  if (res.status !== 0) throw new Error(`${input.cli} failed: ${res.stderr.toString().slice(-500)}`);
  return { ms: ms(t0), segments: res.stdout.toString().split('\n').filter((l) => l.startsWith('[')).length };
}

/** Sentences whose known time range overlaps a speech region. */
function coverage(parts: LayoutPart[], regions: Array<[number, number]>) {
  const sentences = parts.filter((p) => p.kind === 'speech');
  const found = sentences.filter((p) => regions.some(([a, b]) => a < p.end && b > p.start)).length;
  return { found, total: sentences.length };
}

/** A busy neighbour: one process spinning on one core. */
function busyNeighbour(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

async function withEnv<T>(policy: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.OMP_WAIT_POLICY;
  if (policy === undefined) delete process.env.OMP_WAIT_POLICY;
  else process.env.OMP_WAIT_POLICY = policy;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.OMP_WAIT_POLICY;
    else process.env.OMP_WAIT_POLICY = saved;
  }
}

async function contendedRun<T>(fn: () => Promise<T>): Promise<T> {
  const busy = busyNeighbour();
  try {
    await new Promise((r) => setTimeout(r, 200)); // let it take its core
    return await fn();
  } finally {
    busy.kill('SIGKILL');
  }
}

export async function speechBench(input: SpeechBenchInput, cases: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const { log } = input;
  // Same suppression on both sides: the CLI's own flag where its build has one, else the same tokens by pattern.
  const suppression: CliSuppression = input.suppress ? (cliSuppression(input.cli) === 'flag' ? 'flag' : 'regex') : 'none';
  log(
    `non-speech tokens: ${input.suppress ? `suppressed on both sides (CLI: ${suppression === 'flag' ? '-sns' : '--suppress-regex, which whisper.cpp matches against the whole vocabulary at every token: the CLI pays for it'})` : 'not suppressed on either side (--suppress=true for both)'}`,
  );
  const clips: Record<string, { seconds: number; spec: LayoutSpec }> = {
    podcast: { seconds: input.podcastSeconds, spec: podcastClipLayout(input.podcastSeconds) },
    speech: { seconds: input.speechSeconds, spec: plainSpeechLayout(input.speechSeconds) },
  };
  for (const name of cases) {
    const def = clips[name];
    if (!def) throw new Error(`unknown --case ${name} (podcast, speech, fixed)`);
    const c = await clip(input.work, `${name}-${Math.round(def.seconds)}s`, def.spec);
    const nonSpeech = c.parts.filter((p) => p.kind !== 'speech').reduce((n, p) => n + p.end - p.start, 0) / c.totalSamples;
    const audioSeconds = c.totalSamples / SAMPLE_RATE;
    log(`\n${name}: ${fmt(audioSeconds, 0)} s (${c.voice} voice), ${fmt(nonSpeech * 100, 1)} % non-speech, ${input.threads} threads, greedy`);
    const ours: Array<Awaited<ReturnType<typeof podline>>> = [];
    const theirs: Array<ReturnType<typeof cli>> = [];
    const decodes: number[] = [];
    for (let i = 0; i < input.runs; i++) {
      decodes.push(await decodeOnly(c.wav));
      // Alternate the order so neither side always runs on a warmer cache.
      if (i % 2 === 0) {
        ours.push(await podline(input, c.wav));
        theirs.push(cli(input, c.wav, suppression));
      } else {
        theirs.push(cli(input, c.wav, suppression));
        ours.push(await podline(input, c.wav));
      }
      log(
        `  run ${i + 1}: podline (VAD + speech windows) ${fmt(ours[i].ms / 1000)} s (speech pass ${fmt(ours[i].vadMs / 1000)} s; the decode alone ${fmt(decodes[i] / 1000)} s), whisper.cpp CLI -mc 0 ${fmt(theirs[i].ms / 1000)} s`,
      );
    }
    const context = name === 'speech' && input.cliContext ? cli(input, c.wav, suppression, { context: true }) : undefined;
    const best = ours.reduce((a, b) => (b.ms < a.ms ? b : a));
    const decodeMs = decodes[ours.indexOf(best)];
    const cliBest = theirs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const cov = coverage(c.parts, best.regions);
    const row = {
      seconds: audioSeconds,
      nonSpeech,
      oursMs: best.ms,
      cliMs: cliBest.ms,
      cliContextMs: context?.ms,
      oursX: (audioSeconds * 1000) / best.ms,
      cliX: (audioSeconds * 1000) / cliBest.ms,
      ratio: cliBest.ms / best.ms,
      ratioContext: context ? context.ms / best.ms : undefined,
      // The speech pass decodes the audio once for the VAD and Whisper both: the VAD costs what the pass takes beyond that decode.
      vadShare: Math.max(0, best.vadMs - decodeMs) / best.ms,
      speechPassShare: best.vadMs / best.ms,
      decodeMs,
      heard: best.speechSeconds / audioSeconds,
      coverage: cov,
      windows: best.windows,
      segments: { oursRaw: best.raw, oursCues: best.cues, cli: cliBest.segments, cliContext: context?.segments },
      guards: best.guards,
      runs: { ours: ours.map((r) => ({ ms: r.ms, vadMs: r.vadMs })), cli: theirs.map((r) => r.ms), decodeOnly: decodes },
    };
    const goal = name === 'podcast' ? `goal ≥ 1.25: ${row.ratio >= 1.25 ? 'met' : 'NOT met'}` : 'no goal: little to skip';
    log(`  podline, VAD + speech windows (best)       ${fmt(best.ms / 1000)} s = ${fmt(row.oursX)}× real time; Whisper heard ${fmt(row.heard * 100, 1)} % of the audio in ${best.windows} windows of ≤ 30 s (the CLI: ${Math.ceil(audioSeconds / 30)} or more 30 s chunks)`);
    log(`  whisper.cpp CLI -mc 0, whole clip (best)   ${fmt(cliBest.ms / 1000)} s = ${fmt(row.cliX)}× real time`);
    log(`  throughput ratio podline / CLI -mc 0       ${fmt(row.ratio, 3)} (${goal})`);
    if (context) log(`  whisper.cpp CLI, its default context       ${fmt(context.ms / 1000)} s = ${fmt((audioSeconds * 1000) / context.ms)}× real time; ratio podline / it ${fmt(row.ratioContext!, 3)} (${context.segments} segments)`);
    log(
      `  VAD cost share (of podline's total)        ${fmt(row.vadShare * 100, 1)} % (goal ≤ 3 %: ${row.vadShare <= 0.03 ? 'met' : 'NOT met'}): the speech pass ${fmt(best.vadMs / 1000)} s (${fmt(row.speechPassShare * 100, 1)} %) less the decode it does for Whisper too (${fmt(decodeMs / 1000)} s alone)`,
    );
    log(`  sentences found by the VAD                 ${cov.found} / ${cov.total} (goal: all: ${cov.found === cov.total ? 'met' : 'NOT met'})`);
    log(`  segments decoded podline / CLI -mc 0       ${best.raw} / ${cliBest.segments} (podline hears less audio; its ${best.cues} cues are what the guards kept: ${JSON.stringify(best.guards)})`);
    out[name] = row;

    if (name === 'speech' && Object.keys(input.quantized).length) {
      // Issue item 6: quantized models of the same shape against f16, same audio, same path.
      const q: Record<string, number> = { f16: best.ms };
      log(`  quantized models, same clip, podline with VAD (f16 above: ${fmt(best.ms / 1000)} s):`);
      for (const [qname, file] of Object.entries(input.quantized)) {
        const r = await podline(input, c.wav, { model: file });
        q[qname] = r.ms;
        log(`    ${qname.padEnd(6)} ${fmt(r.ms / 1000)} s = ${fmt((audioSeconds * 1000) / r.ms)}× real time, ${fmt(best.ms / r.ms, 2)}× the speed of f16 (${r.raw} segments decoded)`);
      }
      out.quantized = q;
    }
  }

  if (input.contended) out.contended = await contendedRows(input);
  return out;
}

/**
 * Issue item 7: with one core taken by a busy neighbour, how long do thread counts and OpenMP wait policies
 * take, against the time the remaining cores need on their own (one thread fewer, quiet)? Goal: the default
 * setting ≤ 1.3× that.
 */
async function contendedRows(input: SpeechBenchInput) {
  const { log } = input;
  const c = await clip(input.work, `contended-${Math.round(input.contendedSeconds)}s`, plainSpeechLayout(input.contendedSeconds));
  const n = input.threads;
  const fewer = Math.max(1, n - 1);
  log(`\ncontended: ${fmt(c.totalSamples / SAMPLE_RATE, 0)} s of plain speech, podline with VAD; "busy" = another process spinning on one core`);
  const rows: Record<string, number> = {};
  const row = async (label: string, policy: string, threads: number, busy: boolean) => {
    const r = await withEnv(policy, () => (busy ? contendedRun(() => podline(input, c.wav, { threads })) : podline(input, c.wav, { threads })));
    rows[label] = r.ms;
    return r.ms;
  };
  const quietAll = await row(`quiet, ${n} threads, passive (default)`, 'passive', n, false);
  const quietFewer = await row(`quiet, ${fewer} threads, passive`, 'passive', fewer, false);
  const variants: Array<[string, string, number]> = [
    [`busy, ${n} threads, passive (default)`, 'passive', n],
    [`busy, ${n} threads, active (spin: OpenMP's default)`, 'active', n],
    [`busy, ${fewer} threads (a core left free), passive`, 'passive', fewer],
  ];
  for (const [label, policy, threads] of variants) await row(label, policy, threads, true);
  const cliQuiet = cli(input, c.wav, 'none', { threads: n });
  const cliBusy = await contendedRun(async () => cli(input, c.wav, 'none', { threads: n }));
  const cliBusySpin = await contendedRun(async () => cli(input, c.wav, 'none', { threads: n, env: { ...process.env, OMP_WAIT_POLICY: 'active' } }));
  for (const [label, t] of Object.entries(rows)) {
    log(`  podline ${label.padEnd(52)} ${fmt(t / 1000)} s = ${fmt(t / quietAll)}× quiet ${n}-thread time, ${fmt(t / quietFewer)}× quiet ${fewer}-thread time`);
  }
  log(`  CLI     quiet, ${n} threads, passive                           ${fmt(cliQuiet.ms / 1000)} s`);
  log(`  CLI     busy, ${n} threads, passive                            ${fmt(cliBusy.ms / 1000)} s = ${fmt(cliBusy.ms / cliQuiet.ms)}× its quiet time`);
  log(`  CLI     busy, ${n} threads, active (spin)                      ${fmt(cliBusySpin.ms / 1000)} s = ${fmt(cliBusySpin.ms / cliQuiet.ms)}× its quiet time`);
  const busyDefault = rows[`busy, ${n} threads, passive (default)`];
  const share = busyDefault / quietFewer;
  log(`  default under a busy neighbour / what the remaining ${fewer} core(s) need: ${fmt(share)}× (goal ≤ 1.3: ${share <= 1.3 ? 'met' : 'NOT met'})`);
  return { seconds: c.totalSamples / SAMPLE_RATE, podline: rows, cli: { quiet: cliQuiet.ms, busy: cliBusy.ms, busySpin: cliBusySpin.ms }, busyDefaultOverRemaining: share };
}
