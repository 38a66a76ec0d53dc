/**
 * Speech windows against whisper.cpp's CLI (part of the transcribe benchmark, `--case=podcast,speech`):
 * a podcast-like clip (60 s music-like intro, sentences with natural pauses, a music sting now and
 * then, about 20 % non-speech) and a plain-speech clip (short pauses only). Podline: VAD (timed on
 * its own, uncached) + Whisper on the speech windows; the CLI: the whole clip. Same model file, same
 * threads, greedy (the CLI gets the same OMP_WAIT_POLICY Podline gives whisper.cpp: passive unless set).
 * `--contended=true` adds rows with a busy neighbour (one core spinning).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findFfmpeg, SAMPLE_RATE } from '@podline/media';
import { DEFAULT_VAD_SETTINGS, detectSpeech, SileroVad } from '@podline/speech';
import { podcastLayout, writeLayoutAudio, type LayoutPart, type LayoutSpec } from '@podline/speech/testing';
import { transcribeAudio, whisperEngine, whisperEnv } from '@podline/transcription';

export interface SpeechBenchInput {
  root: string;
  work: string;
  seconds: number;
  threads: number;
  runs: number;
  cli: string;
  model: string;
  noFallback: boolean;
  log: (msg: string) => void;
}

/** Continuous speech: sentences with pauses of 0.3–0.8 s and no music. */
function plainSpeechLayout(seconds: number): LayoutSpec {
  return podcastLayout(seconds, 0, 11).filter((p) => p.kind !== 'music').map((p) => (p.kind === 'silence' && p.seconds > 1 ? { ...p, seconds: 0.6 } : p));
}

async function clip(work: string, name: string, spec: LayoutSpec) {
  const wav = path.join(work, `${name}.wav`);
  const mp3 = path.join(work, `${name}.mp3`);
  const made = await writeLayoutAudio(wav, spec);
  if (!existsSync(mp3)) execFileSync(findFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-y', '-i', wav, '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
  return { wav, mp3, ...made };
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function podline(input: SpeechBenchInput, file: string, threads: number) {
  const t0 = process.hrtime.bigint();
  const vad = await SileroVad.load();
  const found = await detectSpeech(file, DEFAULT_VAD_SETTINGS, { vad });
  await vad.close();
  const vadMs = ms(t0);
  const session = await whisperEngine.open({ workspaceRoot: input.root, model: input.model, language: 'en', threads, beamSize: 1, noFallback: input.noFallback });
  let result;
  try {
    result = await transcribeAudio(file, session, { speech: found });
  } finally {
    await session.close();
  }
  return { ms: ms(t0), vadMs, regions: found.regions, segments: result.segments.length, speechSeconds: result.speechSeconds ?? 0, guards: result.guards };
}

function cli(input: SpeechBenchInput, wav: string, threads: number, env: NodeJS.ProcessEnv = whisperEnv()) {
  const t0 = process.hrtime.bigint();
  const res = spawnSync(input.cli, ['-m', input.model, '-f', wav, '-t', String(threads), '-bs', '1', '-bo', '5', '-l', 'en', ...(input.noFallback ? ['-nf'] : [])], { maxBuffer: 1 << 28, env });
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

const fmt = (n: number, d = 2) => n.toFixed(d);

export async function speechBench(input: SpeechBenchInput, cases: string[], contended: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const { log } = input;
  const clips: Record<string, LayoutSpec> = { podcast: podcastLayout(input.seconds, Math.min(60, input.seconds / 10)), speech: plainSpeechLayout(input.seconds) };
  for (const name of cases) {
    const spec = clips[name];
    if (!spec) throw new Error(`unknown --case ${name} (podcast, speech, fixed)`);
    const c = await clip(input.work, `${name}-${input.seconds}s`, spec);
    const nonSpeech = c.parts.filter((p) => p.kind !== 'speech').reduce((n, p) => n + p.end - p.start, 0) / c.totalSamples;
    const audioSeconds = c.totalSamples / SAMPLE_RATE;
    log(`\n${name}: ${fmt(audioSeconds, 0)} s (${c.voice} voice), ${fmt(nonSpeech * 100, 1)} % non-speech, ${input.threads} threads, greedy`);
    const ours: Array<Awaited<ReturnType<typeof podline>>> = [];
    const theirs: Array<ReturnType<typeof cli>> = [];
    for (let i = 0; i < input.runs; i++) {
      if (i % 2 === 0) {
        ours.push(await podline(input, c.wav, input.threads));
        theirs.push(cli(input, c.wav, input.threads));
      } else {
        theirs.push(cli(input, c.wav, input.threads));
        ours.push(await podline(input, c.wav, input.threads));
      }
      log(`  run ${i + 1}: podline (VAD + speech windows) ${fmt(ours[i].ms / 1000)} s (VAD ${fmt(ours[i].vadMs / 1000)} s), whisper.cpp CLI ${fmt(theirs[i].ms / 1000)} s`);
    }
    const best = ours.reduce((a, b) => (b.ms < a.ms ? b : a));
    const cliMs = Math.min(...theirs.map((r) => r.ms));
    const cov = coverage(c.parts, best.regions);
    const row = {
      oursX: (audioSeconds * 1000) / best.ms,
      cliX: (audioSeconds * 1000) / cliMs,
      ratio: cliMs / best.ms,
      vadShare: best.vadMs / best.ms,
      heard: best.speechSeconds / audioSeconds,
      coverage: cov,
      segments: { ours: best.segments, cli: theirs[0].segments },
      guards: best.guards,
      runs: { ours: ours.map((r) => ({ ms: r.ms, vadMs: r.vadMs })), cli: theirs.map((r) => r.ms) },
    };
    log(`  podline, VAD + speech windows (best)       ${fmt(best.ms / 1000)} s = ${fmt(row.oursX)}× real time; Whisper heard ${fmt(row.heard * 100, 1)} % of the audio`);
    log(`  whisper.cpp CLI, whole clip (best)          ${fmt(cliMs / 1000)} s = ${fmt(row.cliX)}× real time`);
    log(`  throughput ratio podline / CLI              ${fmt(row.ratio, 3)} (goal ≥ 1.25${name === 'podcast' ? `: ${row.ratio >= 1.25 ? 'met' : 'NOT met'}` : ', podcast clip only'})`);
    log(`  VAD cost share                              ${fmt(row.vadShare * 100, 1)} % (goal ≤ 3 %: ${row.vadShare <= 0.03 ? 'met' : 'NOT met'})`);
    log(`  sentences found by the VAD                  ${cov.found} / ${cov.total} (goal: all: ${cov.found === cov.total ? 'met' : 'NOT met'})`);
    log(`  segments podline / CLI                      ${best.segments} / ${theirs[0].segments}; guards dropped ${JSON.stringify(best.guards)}`);
    out[name] = row;

    if (contended) {
      const cores = os.cpus().length;
      const variants: Array<{ label: string; threads: number; policy: string }> = [
        { label: `${cores} threads, OMP_WAIT_POLICY=active (spin)`, threads: cores, policy: 'active' },
        { label: `${cores} threads, OMP_WAIT_POLICY=passive (default)`, threads: cores, policy: 'passive' },
        { label: `${Math.max(1, cores - 1)} threads (a core left free), passive`, threads: Math.max(1, cores - 1), policy: 'passive' },
      ];
      const rows: Record<string, unknown> = {};
      log(`  contended (one core spinning in another process):`);
      for (const v of variants) {
        const saved = process.env.OMP_WAIT_POLICY;
        process.env.OMP_WAIT_POLICY = v.policy;
        const busy = busyNeighbour();
        try {
          const r = await podline(input, c.wav, v.threads);
          const cl = cli(input, c.wav, v.threads);
          rows[v.label] = { ours: r.ms, cli: cl.ms };
          log(`    ${v.label.padEnd(44)} podline ${fmt(r.ms / 1000)} s (${fmt(r.ms / best.ms)}× its quiet time), CLI ${fmt(cl.ms / 1000)} s (${fmt(cl.ms / cliMs)}×)`);
        } finally {
          busy.kill('SIGKILL');
          if (saved === undefined) delete process.env.OMP_WAIT_POLICY;
          else process.env.OMP_WAIT_POLICY = saved;
        }
      }
      out[`${name}-contended`] = rows;
    }
  }
  return out;
}
