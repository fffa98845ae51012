// regress/e2e/lib/mock.mjs: start the C mock upstream (bench/mock/mock_upstream)
// for a test file. It builds the binary when it is missing or older than its
// sources, starts it on a free port (--port 0, reads the "listening on" line),
// and always kills it: on stop(), on process exit, and (--die-with-parent)
// when the test process dies without running its exit handlers.
//
//   const mock = await startMock({ expectKey: 'sk-test', frames: 8 });
//   mock.url            http://127.0.0.1:PORT
//   await mock.ledger() entries (GET /__ledger), await mock.resetLedger()
//   await mock.stop()
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MOCK_DIR = path.resolve(here, '../../../bench/mock');
// MOCK_UPSTREAM_BIN overrides the binary (e.g. a sanitizer build); it is not rebuilt.
export const MOCK_BIN = process.env.MOCK_UPSTREAM_BIN || path.join(MOCK_DIR, 'mock_upstream');

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

function mtime(file) {
  try { return statSync(file).mtimeMs; } catch { return 0; }
}

// Build bench/mock/mock_upstream when it is missing or older than a source.
export function buildMock() {
  if (process.env.MOCK_UPSTREAM_BIN) return;
  const newest = Math.max(...readdirSync(MOCK_DIR)
    .filter((f) => /\.(c|h)$/.test(f) || f === 'Makefile')
    .map((f) => mtime(path.join(MOCK_DIR, f))));
  if (mtime(MOCK_BIN) >= newest) return;
  execFileSync('make', ['-C', MOCK_DIR, '--no-print-directory'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

// opts: expectKey, threads, latencyMs, frames, frameIntervalMs, extraArgs
export async function startMock(opts = {}) {
  buildMock();
  const args = ['--port', '0', '--die-with-parent'];
  if (opts.expectKey) args.push('--expect-key', opts.expectKey);
  if (opts.threads) args.push('--threads', String(opts.threads));
  if (opts.latencyMs != null) args.push('--latency-ms', String(opts.latencyMs));
  if (opts.frames != null) args.push('--frames', String(opts.frames));
  if (opts.frameIntervalMs != null) args.push('--frame-interval-ms', String(opts.frameIntervalMs));
  if (opts.extraArgs) args.push(...opts.extraArgs);

  const child = spawn(MOCK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    live.delete(child);
    resolve({ code, signal });
  }));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; process.stderr.write(d); });

  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock_upstream did not start within 10 s: ${stderr}`));
    }, 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^listening on [0-9.]+:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`mock_upstream exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
  child.stdout.resume();

  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    child,
    async ledger(since = 0) {
      const res = await fetch(`${url}/__ledger?since=${since}`);
      if (!res.ok) throw new Error(`GET /__ledger: ${res.status}`);
      return res.json();
    },
    async resetLedger() {
      const res = await fetch(`${url}/__ledger/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`POST /__ledger/reset: ${res.status}`);
    },
    // Poll the ledger until pred(entries) is truthy (the mock records a request
    // when it finishes, e.g. when it notices a client went away).
    async waitLedger(pred, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const entries = await this.ledger();
        const hit = pred(entries);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`ledger condition not met: ${JSON.stringify(entries.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
