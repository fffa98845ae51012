// regress/e2e/docs-errors.test.mjs: docs/troubleshooting.md names every
// error code gatewayd can answer with. Static: the codes are read from the
// source (the code argument of every function that sends an error body, the
// codes a parser hands back through `*code = "…"`, the HTTP server's own
// codes) and the SQLSTATE patterns of the one SQLSTATE → HTTP table
// (gatewayd/src/base/errmap.c); each must appear in the guide as `code`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/gatewayd.mjs';

const SRC = path.join(ROOT, 'gatewayd', 'src');
const SENDERS = ['gw_preq_fail', 'gw_preq_set_error', 'gw_relay_fail', 'gw_relay_cut', 'gw_admin_send_error',
  'gw_admin_refuse', 'gw_bad', 'gw_chat_refuse', 'gw_http_send_error', 'gw_http_verdict_set', 'gw_http_refuse',
  'gw_resp_send_error', 'gw_errmap_body', 'gw_errmap_body_full', 'gw_errmap_body_fixed'];
const CODE = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z]+$/;

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.c') ? [p] : [];
  });
}

// The argument text of each call of fn in src (balanced parentheses, strings skipped).
function calls(src, fn) {
  const out = [];
  const re = new RegExp(`\\b${fn}\\s*\\(`, 'g');
  let m;
  while ((m = re.exec(src)) !== null) {
    let i = m.index + m[0].length;
    let depth = 1;
    const start = i;
    while (i < src.length && depth > 0) {
      const c = src[i];
      if (c === '"' || c === "'") {
        for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      } else if (c === '(') depth++;
      else if (c === ')') depth--;
      i++;
    }
    out.push(src.slice(start, i - 1));
  }
  return out;
}

const literals = (text) => [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]);

export function errorCodes() {
  const codes = new Set();
  for (const f of files(SRC)) {
    const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const fn of SENDERS) {
      for (const args of calls(src, fn)) {
        // the code is one of a call's first two literals (before or after
        // the message; later ones are the message's format arguments)
        for (const s of literals(args).slice(0, 2)) if (CODE.test(s) && s.length > 3) codes.add(s);
      }
    }
    for (const m of src.matchAll(/\*code\s*=\s*"([a-z_]+)"/g)) codes.add(m[1]);
    const http = /gw_http_error_code\s*\([^)]*\)\s*\{([\s\S]*?)\n\}/.exec(src);
    if (http) for (const m of http[1].matchAll(/return "([a-z_]+)"/g)) codes.add(m[1]);
  }
  return codes;
}

describe('docs/troubleshooting.md', () => {
  const guide = readFileSync(path.join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');
  const named = new Set([...guide.matchAll(/`([A-Za-z0-9_]+)`/g)].map((m) => m[1]));

  it('names every error code gatewayd sends', () => {
    const codes = errorCodes();
    // the extraction itself works: codes of every kind of sender are found
    for (const c of ['invalid_api_key', 'budget_exceeded', 'csrf_failed', 'unknown_field', 'llm_required', 'uri_too_long', 'response_refused']) {
      assert.ok(codes.has(c), `the source scan finds ${c}`);
    }
    const missing = [...codes].filter((c) => !named.has(c)).sort();
    assert.deepEqual(missing, [], `codes not in docs/troubleshooting.md: ${missing.join(', ')}`);
  });

  it('names every SQLSTATE (class) of the SQLSTATE → HTTP table', () => {
    const table = readFileSync(path.join(SRC, 'base', 'errmap.c'), 'utf8');
    const patterns = [...table.matchAll(/\{"([0-9A-Z]{2}|[0-9A-Z]{5})", \d{3}\}/g)].map((m) => m[1]);
    assert.ok(patterns.length >= 10, `errmap patterns found: ${patterns}`);
    const missing = patterns.filter((p) => (p.length === 5 ? !named.has(p) : ![...named].some((n) => n.startsWith(p) && /^[0-9A-Z]{5}$|xxx$/.test(n))));
    assert.deepEqual(missing, [], `SQLSTATEs not in docs/troubleshooting.md: ${missing.join(', ')}`);
  });
});
