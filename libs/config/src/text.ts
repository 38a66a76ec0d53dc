/**
 * Text from untrusted sources (feeds, publisher hosts, bucket contents) made safe to store and print:
 * terminal escape sequences (CSI, OSC) are removed whole, other C0/C1 control characters (NUL, ESC, BEL,
 * DEL, U+0080–U+009F) are dropped. Tab, line feed and carriage return stay unless `singleLine`, which also
 * folds every run of whitespace into one space.
 */
export function stripControl(text: string, singleLine = false): string {
  const out = text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '');
  return singleLine ? out.replace(/\s+/g, ' ').trim() : out;
}

/** Seconds as a clock for progress lines: `4:05`, `1:02:09`. */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(s % 60).padStart(2, '0')}`;
}
