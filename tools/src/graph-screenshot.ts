// `nx run tools:graph-screenshot`: pictures of the pipeline as Nx sees it, for the README — the project graph
// (sites → the plugin → the libs) and the task graph of `nx run-many -t index` for one site (its six targets in
// order). Renders `nx graph --file=…`'s static page in headless Chromium from npm (the launcher every browser
// test and bench uses); the page is opened from disk and every request that is not a local file is refused.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findWorkspaceRoot } from '@podline/config';
import { launchChromium } from '@podline/testing/browser';
import { parseArgs, UsageError } from './args';

export const GRAPH_SCREENSHOT_HELP = `Usage: nx run tools:graph-screenshot [--args="--site=<id> --out=<dir>"]
Writes <out>/project-graph.png and <out>/task-graph.png (defaults: --site=example --out=docs/images).`;

interface Io {
  out(line: string): void;
  err(line: string): void;
  cwd: string;
}

/**
 * In the page: the box (CSS pixels, with a margin) around everything the graph drew on its canvases,
 * so the picture holds the graph and not the controls floating beside it.
 */
function graphBounds(): { x: number; y: number; width: number; height: number } | null {
  let box: { x0: number; y0: number; x1: number; y1: number } | null = null;
  for (const canvas of Array.from(document.querySelectorAll('canvas'))) {
    const ctx = canvas.getContext('2d');
    if (!ctx || !canvas.width || !canvas.height) continue;
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const rect = canvas.getBoundingClientRect();
    const sx = rect.width / width;
    const sy = rect.height / height;
    for (let y = 0; y < height; y += 2) {
      for (let x = 0; x < width; x += 2) {
        const i = (y * width + x) * 4;
        if (data[i + 3] < 16) continue; // transparent
        const px = rect.left + x * sx;
        const py = rect.top + y * sy;
        box = box ? { x0: Math.min(box.x0, px), y0: Math.min(box.y0, py), x1: Math.max(box.x1, px), y1: Math.max(box.y1, py) } : { x0: px, y0: py, x1: px, y1: py };
      }
    }
  }
  if (!box) return null;
  const m = 12;
  const x = Math.max(0, Math.floor(box.x0 - m));
  const y = Math.max(0, Math.floor(box.y0 - m));
  return { x, y, width: Math.ceil(box.x1 + m) - x, height: Math.ceil(box.y1 + m) - y };
}

export async function main(argv: string[], io: Io): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { flags: ['help'], values: ['site', 'out'] });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n${GRAPH_SCREENSHOT_HELP}`);
    return 2;
  }
  if (args.help) {
    io.out(GRAPH_SCREENSHOT_HELP);
    return 0;
  }
  const root = findWorkspaceRoot(io.cwd);
  const site = String(args.site ?? 'example');
  const outDir = path.resolve(root, String(args.out ?? 'docs/images'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podline-graph-'));
  try {
    const html = path.join(work, 'graph.html');
    const nx = spawnSync(process.execPath, [require.resolve('nx/bin/nx.js', { paths: [root] }), 'graph', `--file=${html}`], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (nx.status !== 0 || !fs.existsSync(html)) {
      io.err(`[podline] nx graph --file failed (exit ${nx.status}); run \`npx nx graph --file=graph.html\` to see why`);
      return 1;
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setRequestInterception(true);
      page.on('request', (req) => void (req.url().startsWith('file:') || req.url().startsWith('data:') ? req.continue() : req.abort()));
      fs.mkdirSync(outDir, { recursive: true });
      const base = pathToFileURL(html).href;
      const shots = [
        { file: 'project-graph.png', url: `${base}#/projects?groupByFolder=true` },
        { file: 'task-graph.png', url: `${base}#/tasks?targets=index&projects=${encodeURIComponent(site)}` },
      ];
      await page.setViewport({ width: 1400, height: 900, deviceScaleFactor: 1.5 });
      for (const shot of shots) {
        await page.goto(shot.url, { waitUntil: 'networkidle0', timeout: 60_000 });
        await page.waitForSelector('canvas', { timeout: 30_000 });
        await new Promise((resolve) => setTimeout(resolve, 2500)); // the graph lays itself out with an animation
        const clip = await page.evaluate(graphBounds);
        if (!clip) {
          io.err(`[podline] nothing was drawn for ${shot.url}`);
          return 1;
        }
        const file = path.join(outDir, shot.file);
        await page.screenshot({ path: file as `${string}.png`, clip });
        io.out(`[podline] wrote ${path.relative(root, file)}`);
      }
    } finally {
      await browser.close();
    }
    return 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
