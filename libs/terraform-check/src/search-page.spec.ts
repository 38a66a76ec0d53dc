import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseHcl } from './hcl';
import { checkSearchPageTf, SEARCH_PAGE_TF } from './search-page';

const REPO = path.resolve(__dirname, '..', '..', '..');
const webTf = () => readFileSync(path.join(REPO, SEARCH_PAGE_TF), 'utf8');
const check = async (text: string) => checkSearchPageTf(await parseHcl(SEARCH_PAGE_TF, text));

describe('the search page CloudFront check', () => {
  it('passes on this repository', async () => {
    expect(await check(webTf())).toEqual([]);
  });

  it('catches a behavior outside web/ and audio/, a compressed index, a missing exposed header, a wider prefix', async () => {
    const broken = webTf()
      .replace('path_pattern               = "/audio/*"', 'path_pattern               = "/transcripts/*"')
      .replace(/(path_pattern\s+= "\/web\/index-\*\.sqlite"[\s\S]*?compress\s+= )false/, '$1true')
      .replace('"Accept-Ranges", ', '')
      .replace('"${var.bucket_prefix}audio/"]', '"${var.bucket_prefix}"]');
    const messages = (await check(broken)).map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('serves /transcripts/*'),
        expect.stringContaining('/web/index-*.sqlite is compressed'),
        expect.stringContaining('has no cache behavior for /audio/*'),
        expect.stringContaining('does not expose Accept-Ranges'),
        expect.stringContaining('web_public_prefixes'),
      ]),
    );
  });
});
