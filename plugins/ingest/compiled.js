// The outward-looking executors (pre-sync, check, rss) as compiled JavaScript.
//
// They run on every cron run, even when nothing changed, and each of their batch processes would otherwise
// compile the plugin's and the libs' TypeScript on load (Nx registers a transpiler for a `.ts` executor),
// which costs about as much as the work itself on a no-op run. executors.json points them here instead:
// each is bundled once with esbuild (the workspace's libs in, npm packages left to node_modules) into
// node_modules/.cache/podline-ingest/, and that bundle runs.
//
// A stale bundle cannot run: its first line records every source file it was built from with the sha1 of
// its content (and esbuild's version and the checkout's folder); before it is loaded, each is hashed again (a few milliseconds), and
// any difference rebuilds it first. Builds are written to a temp file and renamed, so processes racing to
// build never load a half-written one. When esbuild is missing or the build fails, the TypeScript sources
// run as before (through Nx's transpiler).
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const PLUGIN_ROOT = __dirname;
const WORKSPACE_ROOT = path.resolve(PLUGIN_ROOT, '..', '..');
const CACHE_DIR = path.join(WORKSPACE_ROOT, 'node_modules', '.cache', 'podline-ingest');
const HEADER = '// podline-inputs: ';

const sha1 = (file) => createHash('sha1').update(fs.readFileSync(file)).digest('hex');

/** The bundle's recorded inputs, if it exists and every one of them is unchanged; else undefined. */
function freshBundle(file, esbuildVersion) {
  let head;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      head = buf.subarray(0, n).toString('utf8').split('\n', 1)[0];
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
  if (!head.startsWith(HEADER)) return false;
  let recorded;
  try {
    recorded = JSON.parse(head.slice(HEADER.length));
  } catch {
    return false;
  }
  // Built in another folder (a moved or copied checkout): its source folders are written into it.
  if (recorded.esbuild !== esbuildVersion || recorded.root !== WORKSPACE_ROOT) return false;
  for (const [rel, hash] of Object.entries(recorded.inputs ?? {})) {
    try {
      if (sha1(path.join(WORKSPACE_ROOT, rel)) !== hash) return false;
    } catch {
      return false;
    }
  }
  return Object.keys(recorded.inputs ?? {}).length > 0;
}

/** Bundle one executor; returns the bundle's path. */
async function build(esbuild, phase, file) {
  const entry = path.join(PLUGIN_ROOT, 'src', 'executors', phase, 'executor.ts');
  const tsconfig = path.join(WORKSPACE_ROOT, 'tsconfig.base.json');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    absWorkingDir: WORKSPACE_ROOT,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    tsconfig,
    logLevel: 'silent',
    plugins: [
      {
        name: 'podline-sources',
        setup(b) {
          // npm packages load from node_modules at run time, as they do for the TypeScript sources.
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@podline/') ? undefined : { path: args.path, external: true }));
          // A source that finds its files next to itself (schema.json…) still finds them in its own folder.
          b.onLoad({ filter: /\.ts$/ }, (args) => {
            const text = fs.readFileSync(args.path, 'utf8');
            return {
              contents: text.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))).replace(/\b__filename\b/g, JSON.stringify(args.path)),
              loader: 'ts',
            };
          });
        },
      },
    ],
  });
  const inputs = {};
  for (const rel of [...Object.keys(result.metafile.inputs), 'tsconfig.base.json']) inputs[rel] = sha1(path.join(WORKSPACE_ROOT, rel));
  const text = `${HEADER}${JSON.stringify({ esbuild: esbuild.version, root: WORKSPACE_ROOT, inputs })}\n${result.outputFiles[0].text}`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return file;
}

const loaded = new Map();
/** The executor module of one phase: its fresh bundle, else (no esbuild, a failed build) its TypeScript. */
function load(phase) {
  let mod = loaded.get(phase);
  if (!mod) {
    mod = (async () => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const esbuild = require('esbuild');
        const file = path.join(CACHE_DIR, `${phase}.js`);
        if (!freshBundle(file, esbuild.version)) await build(esbuild, phase, file);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(file);
      } catch (err) {
        if (process.env.LOG_LEVEL === 'debug') process.stderr.write(`[${phase}] running the TypeScript sources: ${err && err.message}\n`);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require('nx/src/plugins/js/utils/register').loadTsFile(path.join(PLUGIN_ROOT, 'src', 'executors', phase, 'executor.ts'));
      }
    })();
    loaded.set(phase, mod);
  }
  return mod;
}

for (const phase of ['pre-sync', 'check', 'rss']) {
  exports[phase] = async (options, context) => (await load(phase)).default(options, context);
  exports[`${phase}:batch`] = async function* batch(...args) {
    yield* (await load(phase)).batch(...args);
  };
}
exports.load = load;
// For its spec.
exports.freshBundle = freshBundle;
exports.build = build;
