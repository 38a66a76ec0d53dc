import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { maskSecrets, maskSecretsDeep, maskSecretsIn, revealSecrets, SECRETS_FILE, SecretError, secretNames, setSecretsRoot } from './secrets';

describe('secrets in feed URLs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'podline-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reveals ${secret:NAME} from the environment, else .env.secrets, and masks every spelling of the value afterwards', () => {
    setSecretsRoot(dir);
    writeFileSync(path.join(dir, SECRETS_FILE), 'FROM_FILE="file+token/with&odd=chars"\nBOTH=file-loses-1\n');
    const env = { BOTH: 'environment-wins', FROM_ENV: 'env-token-123' };
    expect(secretNames('a ${secret:FROM_FILE} b $%7Bsecret:FROM_ENV%7D ${secret:FROM_FILE}')).toEqual(['FROM_FILE', 'FROM_ENV']);
    // Also as a URL parser leaves it in a path.
    const url = revealSecrets('https://h/$%7Bsecret:FROM_ENV%7D/feed?t=${secret:FROM_FILE}&b=${secret:BOTH}', env);
    expect(url).toBe('https://h/env-token-123/feed?t=file+token/with&odd=chars&b=environment-wins');
    expect(maskSecrets(`GET ${url} failed`)).toBe('GET https://h/${secret:FROM_ENV}/feed?t=${secret:FROM_FILE}&b=${secret:BOTH} failed');
    expect(maskSecrets(`x?t=${encodeURIComponent('file+token/with&odd=chars')}`)).toBe('x?t=${secret:FROM_FILE}');
    const xml = Buffer.from('<enclosure url="https://h/a.mp3?t=file+token/with&amp;odd=chars"/>');
    expect(maskSecretsIn(xml).toString()).toBe('<enclosure url="https://h/a.mp3?t=${secret:FROM_FILE}"/>');
    expect(maskSecretsDeep({ problems: [{ message: 'env-token-123 refused' }] })).toEqual({ problems: [{ message: '${secret:FROM_ENV} refused' }] });
  });

  it('a missing or too short secret is an error naming it and the fix, never a value', () => {
    setSecretsRoot(dir);
    expect(() => revealSecrets('https://h/?t=${secret:NOPE}', {})).toThrow(SecretError);
    expect(() => revealSecrets('https://h/?t=${secret:NOPE}', {})).toThrow('the secret NOPE is not set');
    expect(() => revealSecrets('https://h/?t=${secret:SHORT}', { SHORT: 'abc' })).toThrow('shorter than 8 characters');
    expect(revealSecrets('https://h/plain', {})).toBe('https://h/plain');
  });
});
