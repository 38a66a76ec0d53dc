import { phaseOwnOptions } from './common';

describe('options forwarded along the pipeline', () => {
  it('an rss-only option reaching pre-sync and check is ignored there, and used by rss', () => {
    expect(phaseOwnOptions('pre-sync', { since: '2999-01-01', dryRun: true })).toEqual({ own: { dryRun: true }, ignored: ['since'] });
    expect(phaseOwnOptions('check', { retryFailed: true })).toEqual({ own: {}, ignored: ['retryFailed'] });
    expect(phaseOwnOptions('rss', { since: '2999-01-01', retryFailed: true })).toEqual({ own: { since: '2999-01-01', retryFailed: true }, ignored: [] });
  });

  it('kebab-case spellings are the same options', () => {
    expect(phaseOwnOptions('rss', { 'retry-failed': true, 'dry-run': true })).toEqual({ own: { retryFailed: true, dryRun: true }, ignored: [] });
  });

  it('an option no phase takes is refused by name, with where to look', () => {
    expect(() => phaseOwnOptions('check', { sinse: '2999', dryRun: true })).toThrow(
      '--sinse: no phase of the pipeline takes this option. See the options of each phase with `npx nx run <site>:<phase> --help` (this is check).',
    );
  });
});
