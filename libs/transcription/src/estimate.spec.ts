import type { EpisodeRecord } from '@podline/config';
import { DEFAULT_SPEED, estimateTranscription, formatEstimate } from './estimate';
import type { TranscriptSource } from './records';

const ep = (n: number, extra: Partial<EpisodeRecord> = {}): EpisodeRecord =>
  ({ id: `e${n}`, podcast: 'p', fileKey: `k${n}`, title: `E${n}`, status: 'downloaded', audio: { key: `audio/p/k${n}.mp3`, size: 57_600_000, sha256: 'x' }, ...extra }) as EpisodeRecord;
const rec = (speed: number, durationSeconds: number, model = 'base.en'): TranscriptSource => ({ source: 'whisper', engine: 'whisper', model, audioSha256: 'x', transcriptSha256: 'y', speed, durationSeconds });

describe('the transcription estimate', () => {
  it('counts episodes and hours (feed durations, else file sizes) at the default speed before any measurement', () => {
    const e = estimateTranscription({ episodes: [ep(1, { durationSeconds: 3600 }), ep(2)], sources: {}, engine: 'whisper', model: 'base.en', usePublisher: true });
    expect(e).toMatchObject({ episodes: 2, audioSeconds: 3600 + 3600, guessed: true, speed: DEFAULT_SPEED, speedSource: 'default' });
    expect(formatEstimate(e)).toBe(`transcribing 2 episodes (≈2.0 h of audio for the engine): about ${Math.round(7200 / DEFAULT_SPEED / 60)} min at ${DEFAULT_SPEED.toFixed(1)}× real time (default until this machine has measured its own)`);
  });

  it('uses the speed this machine measured with the same engine and model, time-weighted', () => {
    const sources = { a: rec(2, 3600), b: rec(4, 3600), c: rec(50, 3600, 'tiny.en'), d: { ...rec(9, 3600), jobKey: 'j' } };
    const e = estimateTranscription({ episodes: [ep(1, { durationSeconds: 1800 })], sources, engine: 'whisper', model: 'base.en', usePublisher: true });
    expect(e.speedSource).toBe('measured');
    expect(e.samples).toBe(2);
    expect(e.speed).toBeCloseTo(7200 / (1800 + 900));
    expect(formatEstimate(e, true)).toBe('would transcribe 1 episode (30 min of audio for the engine): about 11 min at 2.7× real time (measured here over 2 transcripts)');
  });

  it('with transcription.parallel, divides by the slots (the measured speed is one slot\'s), never below the longest episode alone', () => {
    const sources = { a: rec(2, 3600) };
    const episodes = [1, 2, 3, 4].map((n) => ep(n, { durationSeconds: 3600 }));
    const one = estimateTranscription({ episodes, sources, engine: 'whisper', model: 'base.en', usePublisher: true });
    const two = estimateTranscription({ episodes, sources, engine: 'whisper', model: 'base.en', usePublisher: true, parallel: 2 });
    expect(one).toMatchObject({ slots: 1, expectedSeconds: 4 * 1800 });
    expect(two).toMatchObject({ slots: 2, expectedSeconds: 2 * 1800 });
    expect(formatEstimate(two)).toBe('transcribing 4 episodes (4.0 h of audio for the engine): about 1.0 h at 2.0× real time (measured here over 1 transcript), 2 episodes at once');
    // More slots than episodes for the engine (publisher transcripts need none): one slot per episode.
    const withPublisher = [...episodes.slice(0, 2), ep(5, { transcripts: [{ url: 'u', type: 'text/vtt' }] } as Partial<EpisodeRecord>)];
    expect(estimateTranscription({ episodes: withPublisher, sources, engine: 'whisper', model: 'base.en', usePublisher: true, parallel: 8 })).toMatchObject({ slots: 2, expectedSeconds: 1800 });
    // One long episode and short ones: the long one alone sets the time.
    const uneven = [ep(1, { durationSeconds: 4 * 3600 }), ep(2, { durationSeconds: 600 }), ep(3, { durationSeconds: 600 })];
    expect(estimateTranscription({ episodes: uneven, sources, engine: 'whisper', model: 'base.en', usePublisher: true, parallel: 3 }).expectedSeconds).toBe(2 * 3600);
  });

  it('leaves publisher-transcript episodes out of the engine time', () => {
    const e = estimateTranscription({ episodes: [ep(1, { transcripts: [{ url: 'u', type: 'text/vtt' }] } as Partial<EpisodeRecord>)], sources: {}, engine: 'whisper', model: 'base.en', usePublisher: true });
    expect(formatEstimate(e)).toBe('transcribing 1 episode, all from publisher transcripts (no engine time expected)');
  });
});
