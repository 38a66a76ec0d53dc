import { build } from 'esbuild';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { ifExists, sha256, sha256File, stableStringify, writeFileAtomic } from '@podline/config';
import { isVersionedWebFile, WEB_FOLDER } from './layout';
import type { SiteJson } from './page/site-json';
import { buildWebIndex, WEB_INDEX_FORMAT, WEB_PAGE_SIZE, WEB_RESULT_LIMIT, type WebIndexOptions } from './web-index';


const hash16 = (data: string | Buffer) => sha256(data).slice(0, 16);
const PAGE_SRC = path.join(__dirname, 'page');

/**
 * Brotli at its best quality: the script is stored compressed (`<name>.br`, with
 * `Content-Encoding: br` in the bucket), so every host sends them compressed, the same bytes every time.
 */
function brotli(data: Buffer, hash: string): Buffer {
  let out = compressed.get(hash);
  if (!out) {
    out = brotliCompressSync(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: data.length } });
    compressed.set(hash, out);
  }
  return out;
}
/** Compressed assets by content hash: the sites of one batch share the work. */
const compressed = new Map<string, Buffer>();

/** The page's script: app.ts and what it imports, one minified file for browsers of the last few years. */
export async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(PAGE_SRC, 'app.ts')],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: path.join(__dirname, '..', 'tsconfig.json'),
    // The query syntax's errors derive from config's PodlineError: the browser gets that module alone,
    // not config's file-system code.
    alias: { '@podline/config': require.resolve('../../config/src/errors.ts') },
  });
  return out.outputFiles[0].text;
}

export interface PublishPageOptions {
  site: { id: string; title: string; podcasts: Array<{ id: string; title: string }> };
  /** The site's FTS index (search-index/index.sqlite). */
  sourceIndex: string;
  /** Digest of what the FTS index holds (the index state's digest): the web index is rebuilt when it changes. */
  sourceDigest: string;
  /** The site's web folder (data/<site>/web). */
  webDir: string;
  /** Relative URL from the page to the bucket's root (default "../": the page is under web/). */
  audioBase?: string;
  index?: WebIndexOptions;
  /**
   * The files of the version readers have now: the one whose site.json last went up to the bucket, when the
   * caller knows it. Kept (listed in `previous`) beside the local previous version: after an upload that held
   * site.json back, the local previous version was never live, and this one still is.
   */
  published?: string[];
  /** Say what would change; write nothing. */
  dryRun?: boolean;
}

export interface PublishPageResult {
  /** Files written this run (relative to webDir). */
  written: string[];
  /** Old hashed files removed from the local web folder. */
  removed: string[];
  siteJson: SiteJson;
  /** True when the web index was rebuilt. */
  rebuiltIndex: boolean;
  /** Every file the page is made of (relative to webDir), written this run or not. */
  files: string[];
}

async function writeIfChanged(file: string, data: string | Buffer): Promise<boolean> {
  const current = await ifExists(fsp.readFile(file));
  if (current && current.equals(Buffer.isBuffer(data) ? data : Buffer.from(data))) return false;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, data);
  return true;
}

/**
 * Write the site's static search page into `webDir`: the web index (content-hashed name), the script bundle
 * (hashed; it holds the page's own reader of the index: no wasm, no worker), then `site.json` and `index.html` last, so a page that finds them
 * finds everything they name. Same inputs, same bytes: a second run writes nothing. Files of earlier
 * versions are removed locally (the bucket keeps them, so open tabs keep working).
 */
export async function publishSearchPage(opts: PublishPageOptions): Promise<PublishPageResult> {
  const { webDir } = opts;
  const written: string[] = [];
  const siteJsonFile = path.join(webDir, 'site.json');
  const previous = await ifExists(fsp.readFile(siteJsonFile, 'utf8')).then((t) => {
    try {
      return t ? (JSON.parse(t) as SiteJson) : undefined;
    } catch {
      return undefined;
    }
  });

  // The index: reuse it while the FTS index holds the same content and the file is intact.
  let index: SiteJson['index'];
  let rebuiltIndex = false;
  // (The name is checked before it is used as a path; the file is hashed streamed: it is hundreds of MB.)
  const named = previous && /^index-([0-9a-f]{16})\.sqlite$/.exec(String(previous.index?.file))?.[1];
  const reusable =
    !!named &&
    previous.format === WEB_INDEX_FORMAT &&
    previous.source === opts.sourceDigest &&
    previous.index.rankCap === (opts.index?.rankCap ?? previous.index.rankCap) &&
    existsSync(path.join(webDir, previous.index.file)) &&
    (await sha256File(path.join(webDir, previous.index.file))).slice(0, 16) === named;
  if (reusable) index = previous.index;
  else if (opts.dryRun) {
    return { written: ['index-<hash>.sqlite', 'site.json'], removed: [], siteJson: previous!, rebuiltIndex: true, files: [] };
  } else {
    const info = await buildWebIndex(opts.sourceIndex, webDir, opts.index);
    const file = info.file;
    index = { file, bytes: info.bytes, pageSize: WEB_PAGE_SIZE, head: info.head, rankCap: info.rankCap, limit: WEB_RESULT_LIMIT, episodes: info.episodes, entries: info.entries };
    if (previous?.index.file !== file) written.push(file);
    rebuiltIndex = true;
  }

  const assets: Array<[string, Buffer]> = [];
  const asset = (name: string, ext: string, data: Buffer): string => {
    const hash = hash16(data);
    const file = `assets/${name}-${hash}.${ext}.br`;
    // An intact copy from an earlier run is reused.
    const existing = existsSync(path.join(webDir, file)) ? readFileSync(path.join(webDir, file)) : undefined;
    let intact = false;
    try {
      intact = !!existing && hash16(brotliDecompressSync(existing)) === hash;
    } catch {
      /* damaged: compress again */
    }
    assets.push([file, intact ? existing! : brotli(data, hash)]);
    return file;
  };
  const app = asset('app', 'js', Buffer.from(await bundlePage()));

  const files = [index.file, ...assets.map(([name]) => name)].sort();
  // The version before this one stays readable (an open tab may still use it): site.json names both.
  const previousFiles = previous && versionFiles(previous, await ifExists(fsp.readFile(path.join(webDir, 'index.html'), 'utf8')));
  const siteJson: SiteJson = {
    format: WEB_INDEX_FORMAT,
    site: { id: opts.site.id, title: opts.site.title },
    podcasts: opts.site.podcasts.map((p) => ({ id: p.id, title: p.title })),
    index,
    assets: { app },
    audioBase: opts.audioBase ?? '../',
    source: opts.sourceDigest,
    files,
    previous: keepAlso(!previousFiles || sameList(previousFiles, files) ? (previous?.previous ?? []) : previousFiles, files, opts.published),
  };
  const html = readFileSync(path.join(PAGE_SRC, 'index.html'), 'utf8').replace('__APP__', app);
  const finals: Array<[string, string | Buffer]> = [...assets, ['site.json', stableStringify(siteJson)], ['index.html', html]];
  if (opts.dryRun) {
    const changed = finals.filter(([name, data]) => {
      const file = path.join(webDir, name);
      return !existsSync(file) || !readFileSync(file).equals(Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    return { written: changed.map(([n]) => n), removed: [], siteJson, rebuiltIndex, files };
  }
  for (const [name, data] of finals) if (await writeIfChanged(path.join(webDir, name), data)) written.push(name);

  // Local copies of versions older than the previous one (the bucket is pruned the same way: pruneWebKey).
  const obsolete = obsoleteWebFile(siteJson);
  const removed: string[] = [];
  for (const sub of ['', 'assets']) {
    const dir = path.join(webDir, sub);
    const names = (await ifExists(fsp.readdir(dir, { withFileTypes: true }))) ?? [];
    for (const d of names) {
      const rel = sub ? `${sub}/${d.name}` : d.name;
      if (d.isFile() && obsolete(rel)) {
        await fsp.rm(path.join(dir, d.name), { force: true });
        removed.push(rel);
      }
    }
  }
  return { written, removed, siteJson, rebuiltIndex, files };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The previous version's files, plus the live version's (`published`) when that is neither this one nor among them. */
function keepAlso(previous: string[], files: string[], published: string[] | undefined): string[] {
  const live = published && [...published].sort();
  if (!live || sameList(live, files) || live.every((f) => previous.includes(f))) return previous;
  return [...new Set([...previous, ...live])].sort();
}

/** The versioned files a site.json's page uses (older site.json files did not list them: derived). */
function versionFiles(json: SiteJson, html: string | undefined): string[] {
  if (Array.isArray(json.files)) return [...json.files].sort();
  const app = json.assets?.app ?? (html && /src="(assets\/app-[0-9a-f]{16}\.js(?:\.br)?)"/.exec(html)?.[1]);
  return [json.index?.file, json.assets?.worker, json.assets?.wasm, app].filter((f): f is string => typeof f === 'string').sort();
}

/**
 * Which files of web/ (relative to it) a version of the page no longer needs: content-hashed files as
 * Podline names them that neither the current version (site.json) nor the previous one uses. Anything
 * else in the folder (index.html, site.json, files the operator put there) is never obsolete.
 */
export function obsoleteWebFile(current: SiteJson): (rel: string) => boolean {
  const keep = new Set([...versionFiles(current, undefined), ...(current.previous ?? [])]);
  return (rel) => isVersionedWebFile(rel) && !keep.has(rel);
}

/** The same rule for site keys (`web/…`), for pruning the bucket. */
export function obsoleteWebKey(current: SiteJson): (key: string) => boolean {
  const file = obsoleteWebFile(current);
  const prefix = `${WEB_FOLDER}/`;
  return (key) => key.startsWith(prefix) && file(key.slice(prefix.length));
}
