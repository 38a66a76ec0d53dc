import { formatSrtTime, normalizeSegments, parseJsonTranscript, parseSrt, parseTimestamp, parseVtt, toSrt, validateSrt } from './srt';

describe('SRT', () => {
  it('formats and parses timestamps to the millisecond', () => {
    expect(formatSrtTime(0)).toBe('00:00:00,000');
    expect(formatSrtTime(3723004.4)).toBe('01:02:03,004');
    expect(formatSrtTime(3723004.6)).toBe('01:02:03,005');
    expect(formatSrtTime(101 * 3600000)).toBe('101:00:00,000');
    expect(parseTimestamp('01:02:03,004')).toBe(3723004);
    expect(parseTimestamp('02:03.5')).toBe(123500);
    expect(() => parseTimestamp('1:2:3:4')).toThrow(/bad timestamp/);
  });

  it('writes numbered cues with monotonic starts and no empty text', () => {
    const srt = toSrt([
      { startMs: 0, endMs: 1500, text: ' Hello ' },
      { startMs: 1400, endMs: 1200, text: 'overlap, ends early' },
      { startMs: 1000, endMs: 2000, text: 'goes back' },
      { startMs: 2500, endMs: 3000, text: '   ' },
      { startMs: 3000, endMs: 4000, text: 'line one\r\nline two' },
    ]);
    expect(srt).toBe(
      '1\n00:00:00,000 --> 00:00:01,500\nHello\n\n' +
        '2\n00:00:01,400 --> 00:00:01,400\noverlap, ends early\n\n' +
        '3\n00:00:01,400 --> 00:00:02,000\ngoes back\n\n' +
        '4\n00:00:03,000 --> 00:00:04,000\nline one\nline two\n',
    );
    expect(validateSrt(srt)).toHaveLength(4);
    expect(toSrt([])).toBe('');
    expect(validateSrt('')).toEqual([]);
  });

  it('validateSrt names the first bad cue', () => {
    expect(() => validateSrt('1\n00:00:02,000 --> 00:00:01,000\nx\n')).toThrow('cue 1: ends before it starts');
    expect(() => validateSrt('1\n00:00:02,000 --> 00:00:03,000\nx\n\n2\n00:00:01,000 --> 00:00:03,000\ny\n')).toThrow('cue 2: starts before cue 1');
    expect(() => validateSrt('2\n00:00:02,000 --> 00:00:03,000\nx\n')).toThrow(/expected number 1/);
  });

  it('reads SRT, WebVTT (with settings and voice tags) and JSON transcripts', () => {
    expect(parseSrt('\uFEFF1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,250\r\nthere\r\n')).toEqual([
      { startMs: 1000, endMs: 2000, text: 'Hi' },
      { startMs: 3000, endMs: 4250, text: 'there' },
    ]);
    const vtt = 'WEBVTT\n\nNOTE made by hand\n\ncue-1\n00:01.000 --> 00:02.500 align:start\n<v Alice>Hello</v>\n\n01:00:00.000 --> 01:00:01.000\nLater\n';
    expect(parseVtt(vtt)).toEqual([
      { startMs: 1000, endMs: 2500, text: 'Hello' },
      { startMs: 3600000, endMs: 3601000, text: 'Later' },
    ]);
    expect(() => parseVtt('1\n00:00:01,000 --> 00:00:02,000\nx')).toThrow(/WEBVTT/);
    const json = JSON.stringify({ version: '1.0.0', segments: [{ speaker: 'A', startTime: 0.5, endTime: 1.25, body: 'One' }, { startTime: 2, body: 'Two' }] });
    expect(parseJsonTranscript(json)).toEqual([
      { startMs: 500, endMs: 1250, text: 'One' },
      { startMs: 2000, endMs: 2000, text: 'Two' },
    ]);
    expect(() => parseJsonTranscript('{"foo":1}')).toThrow(/segments/);
    expect(normalizeSegments([{ startMs: 0.4, endMs: 0.6, text: 'x' }])).toEqual([{ startMs: 0, endMs: 1, text: 'x' }]);
  });
});
