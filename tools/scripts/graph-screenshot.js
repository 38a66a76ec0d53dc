#!/usr/bin/env node
// Pictures of the pipeline as Nx sees it, for the README: the project graph (sites → the plugin → the
// libs) and the task graph of `nx run-many -t index` for one site (its six targets in order).
// Renders `nx graph --file=…`'s static page in headless Chromium (@sparticuz/chromium + puppeteer-core,
// both from npm); the page is opened from disk and every request that is not a local file is refused.
//
//   node tools/scripts/graph-screenshot.js [--site=example] [--out=docs/images]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');

function option(name, fallback) {
  const hit = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

/**
 * In the page: the box (CSS pixels, with a margin) around everything the graph drew on its canvases,
 * so the picture holds the graph and not the controls floating beside it.
 */
function graphBounds() {
  let box = null;
  for (const canvas of document.querySelectorAll('canvas')) {
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

async function main() {
  if (process.argv.includes('--help')) {
    process.stdout.write('Usage: node tools/scripts/graph-screenshot.js [--site=example] [--out=docs/images]\nWrites <out>/project-graph.png and <out>/task-graph.png.\n');
    return;
  }
  const site = option('site', 'example');
  const outDir = path.resolve(root, option('out', 'docs/images'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podline-graph-'));
  try {
    const html = path.join(work, 'graph.html');
    const nx = spawnSync(process.execPath, [require.resolve('nx/bin/nx.js', { paths: [root] }), 'graph', `--file=${html}`], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (nx.status !== 0 || !fs.existsSync(html)) throw new Error(`nx graph --file failed (exit ${nx.status}); run \`npx nx graph --file=graph.html\` to see why`);

    const chromium = require('@sparticuz/chromium');
    const puppeteer = require('puppeteer-core');
    const browser = await puppeteer.launch({
      executablePath: await chromium.executablePath(),
      args: [...chromium.args, '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      headless: true,
    });
    try {
      const page = await browser.newPage();
      await page.setRequestInterception(true);
      page.on('request', (req) => (req.url().startsWith('file:') || req.url().startsWith('data:') ? req.continue() : req.abort()));
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
        if (!clip) throw new Error(`nothing was drawn for ${shot.url}`);
        const file = path.join(outDir, shot.file);
        await page.screenshot({ path: file, clip });
        process.stdout.write(`[podline] wrote ${path.relative(root, file)}\n`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`[podline] graph screenshot failed: ${err.message}\n`);
  process.exit(1);
});
