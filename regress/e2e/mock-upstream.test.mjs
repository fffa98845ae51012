// regress/e2e/mock-upstream.test.mjs: proves the C mock upstream
// (bench/mock/mock_upstream) speaks the real wire formats by driving it
// DIRECTLY with each official SDK (openai, @anthropic-ai/sdk, @google/genai,
// ollama), with exact token numbers, plus its faults, its ledger and its HTTP
// handling (pipelining, chunked bodies, 100-continue, limits).
//
//   cd regress/e2e && npm ci && node --test --test-reporter=spec mock-upstream.test.mjs
//
// Token rule of the mock (bench/mock/mock_vendor.h): prompt = sum over
// messages of 3 + words; completion = 8 words for JSON, --frames for streams;
// cached tokens come from the x-mock-cached-tokens header.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import { startMock } from './lib/mock.mjs';

const KEY = 'sk-mock-test-key';
const FRAMES = 5;
const JSON_WORDS = 8;
const TEXT = 'Hello from the mock upstream model stream word';

const words = (s) => s.split(/\s+/).filter(Boolean).length;
const promptOf = (msgs) => msgs.reduce((t, m) => t + 3 + words(m.content), 0);

let mock;
let openai;
let anthropic;
let ollama;

function genai(extraHeaders = {}, key = KEY) {
  return new GoogleGenAI({
    apiKey: key,
    httpOptions: { baseUrl: mock.url, headers: extraHeaders },
  });
}

async function collect(iterable) {
  const out = [];
  for await (const x of iterable) out.push(x);
  return out;
}

// Iterate a stream; return {items, error} instead of throwing.
async function drain(iterable) {
  const items = [];
  try {
    for await (const x of iterable) items.push(x);
    return { items, error: null };
  } catch (error) {
    return { items, error };
  }
}

// Raw HTTP over one socket: write `payload`, read until the server closes.
function rawExchange(port, payload, { endAfterMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => sock.destroy(), endAfterMs);
    sock.on('connect', () => {
      for (const p of Array.isArray(payload) ? payload : [payload]) sock.write(p);
    });
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

before(async () => {
  mock = await startMock({ expectKey: KEY, frames: FRAMES });
  openai = new OpenAI({ apiKey: KEY, baseURL: `${mock.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: KEY, baseURL: mock.url, maxRetries: 0 });
  ollama = new Ollama({ host: mock.url });
});

after(async () => {
  await mock?.stop();
});

describe('control endpoints', () => {
  it('GET /__health answers 200', async () => {
    const res = await fetch(`${mock.url}/__health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
});

describe('OpenAI (official openai SDK)', () => {
  const messages = [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Say hello to the mock please' },
  ];
  const P = promptOf(messages); // 17

  it('chat completion JSON with exact usage and cached tokens', async () => {
    const res = await openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages },
      { headers: { 'x-mock-cached-tokens': '4', 'x-request-id': 'oa-json-1' } },
    );
    assert.equal(P, 17);
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'gpt-4o-mini');
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.choices[0].message.content, TEXT);
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.equal(res.usage.prompt_tokens, P + 4);
    assert.equal(res.usage.completion_tokens, JSON_WORDS);
    assert.equal(res.usage.total_tokens, P + 4 + JSON_WORDS);
    assert.equal(res.usage.prompt_tokens_details.cached_tokens, 4);
  });

  it('chat completion stream with include_usage ends with a usage chunk', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-mock-cached-tokens': '2' } },
    );
    const chunks = await collect(stream);
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(words(content), FRAMES);
    assert.equal(chunks.filter((c) => c.choices[0]?.delta?.content).length, FRAMES);
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.prompt_tokens, P + 2);
    assert.equal(last.usage.completion_tokens, FRAMES);
    assert.equal(last.usage.total_tokens, P + 2 + FRAMES);
    assert.equal(last.usage.prompt_tokens_details.cached_tokens, 2);
  });

  it('stream without include_usage carries no usage', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const chunks = await collect(stream);
    assert.ok(chunks.every((c) => !c.usage));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  it('embeddings (SDK asks for base64) and models', async () => {
    const emb = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['one two three', 'four'] });
    assert.equal(emb.data.length, 2);
    assert.equal(emb.data[0].embedding.length, 8);
    assert.ok(Math.abs(emb.data[0].embedding[0] - 0.0125) < 1e-6);
    assert.equal(emb.usage.prompt_tokens, 4);
    const floats = await openai.embeddings.create({
      model: 'text-embedding-3-small', input: 'a b', encoding_format: 'float', dimensions: 3,
    });
    assert.equal(floats.data[0].embedding.length, 3);
    const models = [];
    for await (const m of openai.models.list()) models.push(m.id);
    assert.ok(models.includes('gpt-4o-mini'));
  });

  it('a wrong key gets 401 in the OpenAI shape', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: 'gpt-4o', messages }), (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.code, 'invalid_api_key');
      return true;
    });
  });
});

describe('Anthropic (official @anthropic-ai/sdk)', () => {
  const system = 'Be brief.';
  const messages = [{ role: 'user', content: 'Count these five words now' }];
  const P = 3 + words(system) + promptOf(messages); // 13
  const headers = { 'x-mock-cached-tokens': '7', 'x-mock-cache-write-tokens': '11' };

  it('messages JSON with cache read and write tokens', async () => {
    const msg = await anthropic.messages.create(
      { model: 'claude-mock-1', max_tokens: 64, system, messages },
      { headers },
    );
    assert.equal(P, 13);
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.content[0].type, 'text');
    assert.equal(msg.content[0].text, TEXT);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.input_tokens, P);
    assert.equal(msg.usage.output_tokens, JSON_WORDS);
    assert.equal(msg.usage.cache_read_input_tokens, 7);
    assert.equal(msg.usage.cache_creation_input_tokens, 11);
  });

  it('messages stream: finalMessage usage includes the cache tokens', async () => {
    const stream = anthropic.messages.stream(
      { model: 'claude-mock-1', max_tokens: 64, system, messages },
      { headers },
    );
    const deltas = [];
    stream.on('text', (t) => deltas.push(t));
    const msg = await stream.finalMessage();
    assert.equal(deltas.length, FRAMES);
    assert.equal(words(msg.content[0].text), FRAMES);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.usage.input_tokens, P);
    assert.equal(msg.usage.output_tokens, FRAMES);
    assert.equal(msg.usage.cache_read_input_tokens, 7);
    assert.equal(msg.usage.cache_creation_input_tokens, 11);
  });

  it('raw stream events arrive in the documented order', async () => {
    const stream = await anthropic.messages.create({ model: 'claude-haiku', max_tokens: 8, messages, stream: true });
    const types = (await collect(stream)).map((e) => e.type);
    assert.deepEqual(types, [
      'message_start', 'content_block_start',
      ...Array(FRAMES).fill('content_block_delta'),
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
  });

  it('x-api-key auth and a missing anthropic-version', async () => {
    const body = JSON.stringify({ model: 'claude-x', max_tokens: 8, messages });
    let res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST', body, headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).usage.input_tokens, promptOf(messages));
    res = await fetch(`${mock.url}/v1/messages`, { method: 'POST', body, headers: { 'x-api-key': KEY } });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.type, 'invalid_request_error');
    res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST', body, headers: { 'x-api-key': 'nope', 'anthropic-version': '2023-06-01' },
    });
    assert.equal(res.status, 401);
  });

  it('a wrong key gets 401 in the Anthropic shape', async () => {
    const bad = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: mock.url, maxRetries: 0 });
    await assert.rejects(bad.messages.create({ model: 'claude', max_tokens: 8, messages }), (err) => {
      assert.ok(err instanceof Anthropic.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.error.type, 'error');
      assert.equal(err.error.error.type, 'authentication_error');
      return true;
    });
  });
});

describe('Google AI (official @google/genai)', () => {
  const contents = 'Tell me a joke';
  const systemInstruction = 'Be funny';
  const P = 3 + words(contents) + 3 + words(systemInstruction); // 12

  it('generateContent with usageMetadata and cached tokens', async () => {
    const ai = genai({ 'x-mock-cached-tokens': '3' });
    const res = await ai.models.generateContent({
      model: 'gemini-2.0-flash', contents, config: { systemInstruction },
    });
    assert.equal(P, 12);
    assert.equal(res.text, TEXT);
    assert.equal(res.candidates[0].finishReason, 'STOP');
    assert.equal(res.usageMetadata.promptTokenCount, P + 3);
    assert.equal(res.usageMetadata.candidatesTokenCount, JSON_WORDS);
    assert.equal(res.usageMetadata.totalTokenCount, P + 3 + JSON_WORDS);
    assert.equal(res.usageMetadata.cachedContentTokenCount, 3);
  });

  it('generateContentStream: usageMetadata on the last chunk', async () => {
    const ai = genai({ 'x-request-id': 'g-stream-1' });
    const chunks = await collect(await ai.models.generateContentStream({
      model: 'gemini-2.0-flash', contents, config: { systemInstruction },
    }));
    assert.equal(chunks.length, FRAMES);
    assert.equal(words(chunks.map((c) => c.text).join('')), FRAMES);
    const last = chunks.at(-1);
    assert.equal(last.candidates[0].finishReason, 'STOP');
    assert.equal(last.usageMetadata.promptTokenCount, P);
    assert.equal(last.usageMetadata.candidatesTokenCount, FRAMES);
    assert.equal(last.usageMetadata.totalTokenCount, P + FRAMES);
    const entry = (await mock.ledger()).find((e) => e.request_id === 'g-stream-1');
    assert.equal(entry.vendor, 'google_ai');
    // @google/genai 3.x defaults to /v1; older releases used /v1beta
    assert.match(entry.path, /^\/v1(beta)?\/models\/gemini-2\.0-flash:streamGenerateContent$/);
    assert.equal(entry.auth['x-goog-api-key'], KEY);
    assert.equal(entry.outcome, 'completed');
  });

  it('a wrong key gets 401 in the Google shape', async () => {
    await assert.rejects(genai({}, 'wrong-key').models.generateContent({ model: 'gemini-2.0-flash', contents }),
      (err) => {
        assert.equal(err.status, 401);
        assert.match(err.message, /UNAUTHENTICATED/);
        return true;
      });
  });

  it('Vertex AI path, ?key= auth and the streamed JSON array form', async () => {
    const vpath = '/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.0-flash';
    const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'a b c' }] }] });
    const res = await fetch(`${mock.url}${vpath}:generateContent`, {
      method: 'POST', body, headers: { authorization: `Bearer ${KEY}`, 'x-request-id': 'vertex-1' },
    });
    assert.equal(res.status, 200);
    const json = await res.json();
    assert.equal(json.usageMetadata.promptTokenCount, 6);
    const arr = await fetch(`${mock.url}/v1beta/models/gemini-pro:streamGenerateContent?key=${KEY}`, {
      method: 'POST', body,
    });
    const parsed = JSON.parse(await arr.text());
    assert.equal(parsed.length, FRAMES);
    assert.equal(parsed.at(-1).usageMetadata.candidatesTokenCount, FRAMES);
    const entries = await mock.ledger();
    assert.equal(entries.find((e) => e.request_id === 'vertex-1').vendor, 'vertex');
    assert.equal(entries.at(-1).auth.query_key, KEY);
  });
});

describe('Ollama (official ollama client)', () => {
  const messages = [{ role: 'user', content: 'why is the sky blue' }];
  const P = promptOf(messages); // 8

  it('chat JSON with prompt_eval_count and eval_count', async () => {
    const res = await ollama.chat({ model: 'llama3.2', messages, stream: false });
    assert.equal(res.message.role, 'assistant');
    assert.equal(res.message.content, TEXT);
    assert.equal(res.done, true);
    assert.equal(res.done_reason, 'stop');
    assert.equal(res.prompt_eval_count, P);
    assert.equal(res.eval_count, JSON_WORDS);
    assert.ok(res.total_duration > 0);
  });

  it('chat NDJSON stream: last part is done with eval_count', async () => {
    const parts = await collect(await ollama.chat({ model: 'llama3.2', messages, stream: true }));
    assert.equal(parts.length, FRAMES + 1);
    assert.equal(words(parts.map((p) => p.message.content).join('')), FRAMES);
    const last = parts.at(-1);
    assert.equal(last.done, true);
    assert.equal(last.prompt_eval_count, P);
    assert.equal(last.eval_count, FRAMES);
  });

  it('generate, tags and version', async () => {
    const gen = await ollama.generate({ model: 'llama3.2', prompt: 'one two three', stream: false });
    assert.equal(gen.response, TEXT);
    assert.equal(gen.prompt_eval_count, 6);
    const tags = await ollama.list();
    assert.ok(tags.models.length >= 1);
    const v = await fetch(`${mock.url}/api/version`).then((r) => r.json());
    assert.ok(v.version);
  });
});

describe('faults selected by the model name', () => {
  const messages = [{ role: 'user', content: 'hi' }];

  it('fault-500 in each vendor shape', async () => {
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o-fault-500', messages }), (err) => {
      assert.ok(err instanceof OpenAI.InternalServerError);
      assert.equal(err.status, 500);
      assert.equal(err.type, 'server_error');
      return true;
    });
    await assert.rejects(anthropic.messages.create({ model: 'claude-fault-500', max_tokens: 8, messages }), (err) => {
      assert.ok(err instanceof Anthropic.InternalServerError);
      assert.equal(err.error.error.type, 'api_error');
      return true;
    });
    await assert.rejects(genai().models.generateContent({ model: 'gemini-fault-500', contents: 'hi' }), (err) => {
      assert.equal(err.status, 500);
      assert.match(err.message, /INTERNAL/);
      return true;
    });
    await assert.rejects(ollama.chat({ model: 'llama-fault-500', messages, stream: false }), (err) => {
      assert.equal(err.status_code, 500);
      return true;
    });
  });

  it('fault-429 with retry-after', async () => {
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o-fault-429', messages, stream: true }), (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.equal(err.headers.get('retry-after'), '1');
      assert.equal(err.code, 'rate_limit_exceeded');
      return true;
    });
    await assert.rejects(anthropic.messages.create({ model: 'claude-fault-429', max_tokens: 8, messages }), (err) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal(err.error.error.type, 'rate_limit_error');
      return true;
    });
  });

  it('fault-reset: the SDK stream throws after 2 frames', async () => {
    const oa = await drain(await openai.chat.completions.create(
      { model: 'gpt-4o-fault-reset', messages, stream: true },
      { headers: { 'x-request-id': 'reset-oa' } },
    ));
    assert.ok(oa.error, 'openai stream must throw');
    assert.equal(oa.items.length, 2);

    const an = anthropic.messages.stream({ model: 'claude-fault-reset', max_tokens: 8, messages });
    await assert.rejects(an.finalMessage());

    const gg = await drain(await genai().models.generateContentStream({ model: 'gemini-fault-reset', contents: 'hi' }));
    assert.ok(gg.error, 'genai stream must throw');

    const ol = await drain(await ollama.chat({ model: 'llama-fault-reset', messages, stream: true }));
    assert.ok(ol.error, 'ollama stream must throw');
    assert.equal(ol.items.length, 2);

    const entry = await mock.waitLedger((es) => es.find((e) => e.request_id === 'reset-oa'));
    assert.equal(entry.outcome, 'reset');
    assert.equal(entry.frames_sent, 2);
    assert.equal(entry.usage_sent, false);
  });

  it('fault-reset on a JSON request: connection error, no answer', async () => {
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o-fault-reset', messages }), (err) => {
      assert.ok(err instanceof OpenAI.APIConnectionError);
      return true;
    });
  });

  it('fault-stall: one frame then silence until the client aborts', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o-fault-stall', messages, stream: true },
      { signal: ac.signal, headers: { 'x-request-id': 'stall-1' } },
    );
    setTimeout(() => ac.abort(), 300);
    // the openai SDK ends the iteration quietly on a user abort
    const res = await drain(stream);
    assert.ok(ac.signal.aborted);
    assert.equal(res.items.length, 1);
    assert.equal(res.items[0].choices[0].finish_reason, null);
    assert.ok(Date.now() - started >= 290);
    const entry = await mock.waitLedger((es) => es.find((e) => e.request_id === 'stall-1'));
    assert.equal(entry.outcome, 'client_gone');
    assert.equal(entry.fault, 'fault-stall');
    assert.equal(entry.frames_sent, 1);
  });

  it('delay-<ms> and big-<kb>', async () => {
    const t0 = Date.now();
    await openai.chat.completions.create({ model: 'gpt-4o-delay-250', messages });
    assert.ok(Date.now() - t0 >= 245, 'first byte delayed');
    const big = await openai.chat.completions.create({ model: 'gpt-4o-big-64', messages });
    assert.equal(big.choices[0].message.content.length, 64 * 1024 - 1);
    assert.equal(big.usage.completion_tokens, 64 * 1024 / 8);
    const bigStream = await collect(await openai.chat.completions.create({
      model: 'gpt-4o-big-32', messages, stream: true, stream_options: { include_usage: true },
    }));
    const text = bigStream.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text.length, 32 * 1024 - 1);
    assert.equal(bigStream.at(-1).usage.completion_tokens, 32 * 1024 / 8);
  });
});

describe('ledger', () => {
  it('records vendor, path, model, usage and the auth values seen; since and reset', async () => {
    await mock.resetLedger();
    assert.deepEqual(await mock.ledger(), []);
    await openai.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'a b' }] },
      { headers: { 'x-request-id': 'ledger-1', 'x-mock-cached-tokens': '1' } },
    );
    await anthropic.messages.create(
      { model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'a' }] },
      { headers: { 'x-request-id': 'ledger-2' } },
    );
    const bad = new OpenAI({ apiKey: 'client-key', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create(
      { model: 'gpt-4o', messages: [] }, { headers: { 'x-request-id': 'ledger-3' } }));

    const es = await mock.ledger();
    assert.deepEqual(es.map((e) => e.request_id), ['ledger-1', 'ledger-2', 'ledger-3']);
    assert.deepEqual(es.map((e) => e.idx), [0, 1, 2]);
    const [a, b, c] = es;
    assert.equal(a.vendor, 'openai');
    assert.equal(a.path, '/v1/chat/completions');
    assert.equal(a.method, 'POST');
    assert.equal(a.model, 'gpt-4o');
    assert.equal(a.stream, false);
    assert.equal(a.status, 200);
    assert.equal(a.outcome, 'completed');
    assert.equal(a.usage_sent, true);
    assert.equal(a.prompt_tokens, 5 + 1);
    assert.equal(a.completion_tokens, 8);
    assert.equal(a.total_tokens, 14);
    assert.equal(a.cache_read_tokens, 1);
    assert.equal(a.auth.authorization, `Bearer ${KEY}`);
    assert.equal(a.auth['x-api-key'], null);
    assert.equal(b.vendor, 'anthropic');
    // @anthropic-ai/sdk 1.x sends the API key as Authorization: Bearer
    assert.ok(b.auth['x-api-key'] === KEY || b.auth.authorization === `Bearer ${KEY}`);
    assert.ok(b.auth['anthropic-version']);
    assert.equal(b.prompt_tokens, 4);
    assert.equal(c.status, 401);
    assert.equal(c.auth.authorization, 'Bearer client-key');

    assert.deepEqual((await mock.ledger(2)).map((e) => e.request_id), ['ledger-3']);
    await mock.resetLedger();
    assert.deepEqual(await mock.ledger(), []);
  });
});

describe('HTTP handling', () => {
  const chat = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'one two' }] });
  const auth = `Authorization: Bearer ${KEY}\r\n`;

  it('pipelined keep-alive requests with Content-Length and chunked bodies', async () => {
    const half = Math.floor(chat.length / 2);
    const chunked = `${half.toString(16)}\r\n${chat.slice(0, half)}\r\n` +
      `${(chat.length - half).toString(16)};ext=1\r\n${chat.slice(half)}\r\n0\r\nX-Trailer: t\r\n\r\n`;
    const payload =
      'GET /__health HTTP/1.1\r\nHost: x\r\n\r\n' +
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n` +
      `Content-Length: ${chat.length}\r\n\r\n${chat}` +
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n${chunked}` +
      'GET /__health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    // split the bytes at awkward places to exercise incremental parsing
    const parts = [payload.slice(0, 7), payload.slice(7, 200), payload.slice(200)];
    const out = await rawExchange(mock.port, parts);
    const statuses = [...out.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '200', '200', '200']);
    const usages = [...out.matchAll(/"prompt_tokens":(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(usages, [5, 5]);
    assert.match(out, /Connection: close/);
  });

  it('Expect: 100-continue', async () => {
    const out = await new Promise((resolve, reject) => {
      const sock = net.connect(mock.port, '127.0.0.1');
      let buf = '';
      sock.on('connect', () => sock.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Expect: 100-continue\r\n` +
        `Connection: close\r\nContent-Length: ${chat.length}\r\n\r\n`));
      sock.on('data', (d) => {
        buf += d;
        if (buf === 'HTTP/1.1 100 Continue\r\n\r\n') sock.write(chat);
      });
      sock.on('error', reject);
      sock.on('close', () => resolve(buf));
    });
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it('limits: 413 over 16 MiB (Content-Length and chunked), 400 on bad JSON', async () => {
    let out = await rawExchange(mock.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${16 * 1024 * 1024 + 1}\r\n\r\n{`);
    assert.match(out, /^HTTP\/1\.1 413 /);
    out = await rawExchange(mock.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n1000001\r\n{`);
    assert.match(out, /^HTTP\/1\.1 413 /);
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST', body: '{"model":', headers: { authorization: `Bearer ${KEY}` },
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.type, 'invalid_request_error');
    out = await rawExchange(mock.port, `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(70000)}\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });
});

describe('threads and frame pacing', () => {
  let paced;
  before(async () => { paced = await startMock({ threads: 2, frames: 3, frameIntervalMs: 50 }); });
  after(async () => { await paced?.stop(); });

  it('serves parallel requests on 2 threads and paces frames', async () => {
    const client = new OpenAI({ apiKey: 'anything', baseURL: `${paced.url}/v1`, maxRetries: 0 });
    const res = await Promise.all(Array.from({ length: 40 }, () =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })));
    assert.ok(res.every((r) => r.usage.prompt_tokens === 4));
    const t0 = Date.now();
    const chunks = await collect(await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true,
    }));
    assert.ok(Date.now() - t0 >= 95, 'three frames 50 ms apart');
    assert.equal(chunks.filter((c) => c.choices[0]?.delta?.content).length, 3);
    assert.equal((await paced.ledger()).length, 41);
  });
});
