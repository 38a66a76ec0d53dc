#!/usr/bin/env node
// Downloads a whisper.cpp ggml model into the models folder, verifying its checksum.
//   npx nx run tools:download-model --model=base.en
//   node tools/scripts/download-model.js --model=base.en [--force] [--sha1=<hex>|--sha256=<hex>]
// Source: $PODLINE_MODEL_BASE_URL, default whisper.cpp's public model host.
// Destination: $PODLINE_MODELS_DIR (relative to the workspace), default <workspace>/models.
// The file is written under a temporary name and renamed only once complete and verified, so an
// interrupted download never leaves a file that looks like a model.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_BASE_URL = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';
const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..');
const TEMP_SUFFIX = '.podline-tmp'; // the suffix every Podline temp file carries (see libs/config atomic.ts)
const GGML_MAGIC = Buffer.from('lmgg', 'latin1'); // 0x67676d6c little-endian

/** SHA-1 of whisper.cpp's published models, f16 and quantized (q5_0/q5_1/q8_0), from the model repository's README. */
const KNOWN_SHA1 = {
  tiny: 'bd577a113a864445d4c299885e0cb97d4ba92b5f',
  'tiny-q5_1': '2827a03e495b1ed3048ef28a6a4620537db4ee51',
  'tiny-q8_0': '19e8118f6652a650569f5a949d962154e01571d9',
  'tiny.en': 'c78c86eb1a8faa21b369bcd33207cc90d64ae9df',
  'tiny.en-q5_1': '3fb92ec865cbbc769f08137f22470d6b66e071b6',
  'tiny.en-q8_0': '802d6668e7d411123e672abe4cb6c18f12306abb',
  base: '465707469ff3a37a2b9b8d8f89f2f99de7299dac',
  'base-q5_1': 'a3733eda680ef76256db5fc5dd9de8629e62c5e7',
  'base-q8_0': '7bb89bb49ed6955013b166f1b6a6c04584a20fbe',
  'base.en': '137c40403d78fd54d454da0f9bd998f78703390c',
  'base.en-q5_1': 'd26d7ce5a1b6e57bea5d0431b9c20ae49423c94a',
  'base.en-q8_0': 'bb1574182e9b924452bf0cd1510ac034d323e948',
  small: '55356645c2b361a969dfd0ef2c5a50d530afd8d5',
  'small-q5_1': '6fe57ddcfdd1c6b07cdcc73aaf620810ce5fc771',
  'small-q8_0': 'bcad8a2083f4e53d648d586b7dbc0cd673d8afad',
  'small.en': 'db8a495a91d927739e50b3fc1cc4c6b8f6c2d022',
  'small.en-q5_1': '20f54878d608f94e4a8ee3ae56016571d47cba34',
  'small.en-q8_0': '9d75ff4ccfa0a8217870d7405cf8cef0a5579852',
  'small.en-tdrz': 'b6c6e7e89af1a35c08e6de56b66ca6a02a2fdfa1',
  medium: 'fd9727b6e1217c2f614f9b698455c4ffd82463b4',
  'medium-q5_0': '7718d4c1ec62ca96998f058114db98236937490e',
  'medium-q8_0': 'e66645948aff4bebbec71b3485c576f3d63af5d6',
  'medium.en': '8c30f0e44ce9560643ebd10bbe50cd20eafd3723',
  'medium.en-q5_0': 'bb3b5281bddd61605d6fc76bc5b92d8f20284c3b',
  'medium.en-q8_0': 'b1cf48c12c807e14881f634fb7b6c6ca867f6b38',
  'large-v1': 'b1caaf735c4cc1429223d5a74f0f4d0b9b59a299',
  'large-v2': '0f4c8e34f21cf1a914c59d8b3ce882345ad349d6',
  'large-v2-q5_0': '00e39f2196344e901b3a2bd5814807a769bd1630',
  'large-v2-q8_0': 'da97d6ca8f8ffbeeb5fd147f79010eeea194ba38',
  'large-v3': 'ad82bf6a9043ceed055076d0fd39f5f186ff8062',
  'large-v3-q5_0': 'e6e2ed78495d403bef4b7cff42ef4aaadcfea8de',
  'large-v3-turbo': '4af2b29d7ec73d781377bfd1758ca957a807e941',
  'large-v3-turbo-q5_0': 'e050f7970618a659205450ad97eb95a18d69c9ee',
  'large-v3-turbo-q8_0': '01bf15bedffe9f39d65c1b6ff9b687ea91f59e0e',
};

class DownloadError extends Error {}

function modelsDir(env = process.env) {
  return env.PODLINE_MODELS_DIR ? path.resolve(WORKSPACE_ROOT, env.PODLINE_MODELS_DIR) : path.join(WORKSPACE_ROOT, 'models');
}

/** The checksum to verify: given on the command line, else the known table. */
function expectedChecksum(model, opts) {
  if (opts.sha256) return { algorithm: 'sha256', hex: opts.sha256.toLowerCase() };
  if (opts.sha1) return { algorithm: 'sha1', hex: opts.sha1.toLowerCase() };
  if (KNOWN_SHA1[model]) return { algorithm: 'sha1', hex: KNOWN_SHA1[model] };
  throw new DownloadError(
    `no known checksum for model "${model}"; known models: ${Object.keys(KNOWN_SHA1).join(', ')}. ` +
      'To fetch another one, pass its checksum: --sha1=<hex> or --sha256=<hex>',
  );
}

async function hashFile(file, algorithm) {
  const hash = crypto.createHash(algorithm);
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

function mib(n) {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/**
 * Download `model` to <models dir>/ggml-<model>.bin. Returns {file, status: 'present'|'downloaded', bytes}.
 * Options: force (replace a present file that fails the check), sha1/sha256, env, log.
 */
async function downloadModel(model, opts = {}) {
  const env = opts.env || process.env;
  const log = opts.log || ((m) => process.stdout.write(`${m}\n`));
  if (!model || !/^[A-Za-z0-9._-]+$/.test(model)) throw new DownloadError(`give a model name, e.g. --model=base.en (got "${model || ''}")`);
  const want = expectedChecksum(model, opts);
  const dir = modelsDir(env);
  const file = path.join(dir, `ggml-${model}.bin`);
  if (fs.existsSync(file)) {
    if ((await hashFile(file, want.algorithm)) === want.hex) {
      log(`${file} is already present and verified (${want.algorithm} ${want.hex})`);
      return { file, status: 'present', bytes: fs.statSync(file).size };
    }
    if (!opts.force) {
      throw new DownloadError(`${file} exists but its ${want.algorithm} is not ${want.hex}; run again with --force to replace it`);
    }
  }
  const base = (env.PODLINE_MODEL_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, '');
  const url = `${base}/ggml-${model}.bin`;
  log(`downloading ${url}`);
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok || !res.body) throw new DownloadError(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const total = Number(res.headers.get('content-length')) || 0;

  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.ggml-${model}.bin.${process.pid}.${crypto.randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const hash = crypto.createHash(want.algorithm);
  const fd = fs.openSync(tmp, 'w');
  let bytes = 0;
  let nextReport = 0;
  try {
    for await (const chunk of res.body) {
      const buf = Buffer.from(chunk);
      if (bytes < 4 && bytes + buf.length >= 4) {
        const head = Buffer.concat([fs.readFileSync(tmp).subarray(0, bytes), buf]).subarray(0, 4);
        if (!head.equals(GGML_MAGIC)) throw new DownloadError(`${url} is not a ggml model (it starts with ${JSON.stringify(head.toString('latin1'))})`);
      }
      fs.writeSync(fd, buf);
      hash.update(buf);
      bytes += buf.length;
      if (total && bytes >= nextReport) {
        log(`  ${mib(bytes)} of ${mib(total)} (${Math.floor((bytes * 100) / total)}%)`);
        nextReport += Math.max(total / 10, 1);
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    if (total && bytes !== total) throw new DownloadError(`${url}: got ${bytes} bytes, expected ${total}`);
    const got = hash.digest('hex');
    if (got !== want.hex) throw new DownloadError(`${url}: ${want.algorithm} is ${got}, expected ${want.hex}; the download is corrupt or not the published model`);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  log(`saved ${file} (${mib(bytes)}, ${want.algorithm} verified)`);
  return { file, status: 'downloaded', bytes };
}

function parseArgs(argv) {
  const opts = {};
  for (const arg of argv) {
    const m = /^--([a-zA-Z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!m) {
      if (!opts.model) opts.model = arg; // positional model name
      continue;
    }
    opts[m[1]] = m[2] === undefined ? true : m[2];
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(
      `usage: download-model --model=<name> [--force] [--sha1=<hex>|--sha256=<hex>]\nknown: ${Object.keys(KNOWN_SHA1).join(', ')}\n`,
    );
    return;
  }
  try {
    await downloadModel(opts.model, { force: !!opts.force, sha1: opts.sha1, sha256: opts.sha256 });
  } catch (err) {
    process.stderr.write(`download-model: ${err.message}\n`);
    process.exitCode = 1;
  }
}

module.exports = { downloadModel, parseArgs, KNOWN_SHA1, DEFAULT_BASE_URL, DownloadError };

if (require.main === module) main();
