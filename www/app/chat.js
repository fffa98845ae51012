// app/chat.js: chat with the LLMs the user's groups grant (every role:
// group grants decide the chat for admins too), listed by
// GET /api/v1/llms?usable=true, through
// POST /api/v1/chat/completions (OpenAI-shaped, stream: true). The answer
// is read as server-sent events — data: {"choices":[{"delta":{"content"}}]}
// … data: [DONE] — and rendered token by token. Conversations live in
// sessionStorage (this browser tab's session) and are gone at sign-out.
import { html, useState, useEffect, useRef, useMemo } from './deps.js';
import { request, listAll, describeError, ApiError } from './api.js';
import { Button, EmptyState, Spinner, ErrorBanner, useFetch, IconButton, useId } from './ui.js';
import { Icon } from './icons.js';
import { compact } from './format.js';
import { vendorName, isAdmin } from './lookups.js';

const storeKey = (me) => `aistudio.chat.${me.id}`;
const load = (me) => { try { return JSON.parse(sessionStorage.getItem(storeKey(me))) || []; } catch { return []; } };
const save = (me, convs) => { try { sessionStorage.setItem(storeKey(me), JSON.stringify(convs.slice(0, 50))); } catch { /* full */ } };
const newId = () => `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

// The request body. The LLM is chosen by id; model is the vendor's model name.
export function chatBody(llm, model, messages) {
  return { llm_id: llm.id, model: model || llm.default_model || undefined, messages, stream: true };
}

// Reads an SSE response; onDelta(text) per content delta; resolves with
// { usage, done } (done: [DONE] was seen).
export async function readStream(res, onDelta, signal) {
  const ct = res.headers.get('content-type') || '';
  if (!ct.includes('text/event-stream')) {
    const j = await res.json();
    const text = j && j.choices && j.choices[0] && j.choices[0].message ? j.choices[0].message.content : '';
    if (text) onDelta(text);
    return { usage: j.usage || null, done: true };
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let usage = null;
  for (;;) {
    if (signal && signal.aborted) { reader.cancel().catch(() => {}); return { usage, done: false, aborted: true }; }
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') { reader.cancel().catch(() => {}); return { usage, done: true }; }
      let j;
      try { j = JSON.parse(data); } catch { continue; }
      if (j.error) throw new ApiError(502, j, 'The model returned an error.');
      if (j.usage) usage = j.usage;
      const delta = j.choices && j.choices[0] && j.choices[0].delta;
      if (delta && delta.content) onDelta(delta.content);
    }
  }
  return { usage, done: false };
}

// Plain text with ``` fenced code and `inline code`, built as elements.
function Rich({ text }) {
  const parts = text.split(/```/);
  return parts.map((p, i) => {
    if (i % 2 === 1) {
      const nl = p.indexOf('\n');
      const body = nl >= 0 && /^[\w+-]*$/.test(p.slice(0, nl)) ? p.slice(nl + 1) : p;
      return html`<pre class="code"><code>${body}</code></pre>`;
    }
    return html`<span class="prose">${p.split(/(`[^`\n]+`)/).map((s) => (s.startsWith('`') && s.endsWith('`') && s.length > 2
      ? html`<code>${s.slice(1, -1)}</code>` : s))}</span>`;
  });
}

function Message({ m, streaming }) {
  const mine = m.role === 'user';
  // an answer that failed before its first word is only its error (no empty bubble)
  const text = mine || m.content || !m.error;
  return html`<div class=${`msg ${mine ? 'msg-user' : 'msg-bot'} ${m.error ? 'msg-error' : ''}`} data-role=${m.role}>
    <div class="msg-avatar" aria-hidden="true">${mine ? html`<${Icon} name="user" size=${16} />` : html`<${Icon} name="sparkle" size=${16} />`}</div>
    <div class="msg-bubble">
      ${text && html`<div class="msg-text" data-testid=${mine ? 'user-message' : 'assistant-message'}>
        ${m.content ? html`<${Rich} text=${m.content} />`
          : html`<span class="typing"><i aria-hidden="true"></i><i aria-hidden="true"></i><i aria-hidden="true"></i><span class="sr-only">Thinking…</span></span>`}
        ${streaming && m.content && html`<span class="caret" aria-hidden="true"></span>`}
      </div>`}
      ${m.error && html`<div class="msg-err" role="alert"><${Icon} name="alert" size=${14} /> ${m.error}</div>`}
      ${m.usage && html`<div class="msg-meta">${compact(m.usage.prompt_tokens)} prompt · ${compact(m.usage.completion_tokens)} completion tokens${m.model ? ` · ${m.model}` : ''}</div>`}
    </div>
  </div>`;
}

export function ChatPage({ me }) {
  const llms = useFetch(() => listAll('/llms', { usable: true }), []);
  const [convs, setConvs] = useState(() => load(me));
  const [curId, setCurId] = useState(() => (load(me)[0] || {}).id || null);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [llmId, setLlmId] = useState('');
  const [model, setModel] = useState('');
  const abortRef = useRef(null);
  const listRef = useRef(null);
  const inputRef = useRef(null);
  const inputId = useId('chat-in');
  const available = useMemo(() => (llms.data || []).filter((l) => l.active), [llms.data]);
  const cur = convs.find((c) => c.id === curId) || null;

  useEffect(() => save(me, convs), [convs]);
  useEffect(() => {
    if (!available.length) return;
    const want = cur && cur.llmId && available.find((l) => l.id === cur.llmId) ? cur.llmId : (llmId && available.find((l) => l.id === Number(llmId)) ? Number(llmId) : available[0].id);
    setLlmId(String(want));
    const l = available.find((x) => x.id === want);
    setModel(cur && cur.model ? cur.model : (l && l.default_model) || '');
  }, [available, curId]);
  useEffect(() => { const el = listRef.current; if (el) el.scrollTop = el.scrollHeight; }, [cur && cur.messages.length, cur && cur.messages[cur.messages.length - 1]?.content]);
  useEffect(() => () => abortRef.current && abortRef.current.abort(), []);

  const llm = available.find((l) => l.id === Number(llmId));
  const update = (id, fn) => setConvs((cs) => cs.map((c) => (c.id === id ? fn(c) : c)));
  const newChat = () => { if (busy) return; setCurId(null); setInput(''); inputRef.current && inputRef.current.focus(); };
  const removeConv = (id) => { setConvs((cs) => cs.filter((c) => c.id !== id)); if (id === curId) setCurId(null); };

  const send = async () => {
    const text = input.trim();
    if (!text || busy || !llm) return;
    let conv = cur;
    if (!conv) {
      conv = { id: newId(), title: text.slice(0, 48), llmId: llm.id, model, messages: [], updated: Date.now() };
      setConvs((cs) => [conv, ...cs]);
      setCurId(conv.id);
    }
    const id = conv.id;
    const history = [...conv.messages.filter((m) => !m.error), { role: 'user', content: text }];
    update(id, (c) => ({ ...c, llmId: llm.id, model, updated: Date.now(),
      messages: [...c.messages, { role: 'user', content: text }, { role: 'assistant', content: '', model }] }));
    setInput('');
    setBusy(true);
    const ctl = new AbortController();
    abortRef.current = ctl;
    const setLast = (fn) => update(id, (c) => ({ ...c, messages: [...c.messages.slice(0, -1), fn(c.messages[c.messages.length - 1])] }));
    try {
      const res = await request('POST', '/chat/completions', chatBody(llm, model, history.map(({ role, content }) => ({ role, content }))),
        { raw: true, signal: ctl.signal, accept: 'text/event-stream' });
      const r = await readStream(res, (d) => setLast((m) => ({ ...m, content: m.content + d })), ctl.signal);
      if (r.aborted) setLast((m) => ({ ...m, error: 'Stopped.' }));
      else if (!r.done) setLast((m) => ({ ...m, error: 'The answer was cut off before it ended.' }));
      if (r.usage) setLast((m) => ({ ...m, usage: r.usage }));
    } catch (e) {
      if (e && e.name === 'AbortError') setLast((m) => ({ ...m, error: 'Stopped.' }));
      else {
        const d = describeError(e);
        const msg = e instanceof ApiError && e.status === 404 && e.code === 'not_found'
          ? 'Chat is not available on this server (POST /api/v1/chat/completions answered 404).' : d.message;
        setLast((m) => ({ ...m, error: msg }));
      }
    } finally {
      setBusy(false);
      abortRef.current = null;
      setTimeout(() => inputRef.current && inputRef.current.focus(), 0);
    }
  };
  const onKeyDown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  };

  const title = html`<h1 class="chat-title">Chat</h1>`;
  if (llms.error) return html`<div class="chat-empty">${title}<${ErrorBanner} error=${llms.error} onRetry=${llms.reload} /></div>`;
  if (!llms.data) return html`<div class="chat-empty">${title}<${Spinner} label="Loading your models…" /></div>`;
  if (available.length === 0) {
    const admin = isAdmin(me);
    return html`<div class="chat-empty">${title}<${EmptyState} icon="chat" title="No model is available to you yet"
      text=${admin ? 'Chat uses the LLMs your groups grant, for administrators too. Add yourself to a group that grants an LLM.'
        : 'Chat uses the LLMs your groups grant. Ask an administrator to add you to a group with access.'}
      action=${admin && html`<a class="btn btn-primary" href="#/groups">Open Groups</a>`} /></div>`;
  }
  const messages = cur ? cur.messages : [];
  return html`<div class="chat">
    <aside class="chat-side" aria-label="Conversations">
      <${Button} kind="primary" icon="plus" class="btn-block" onClick=${newChat} disabled=${busy}>New chat<//>
      <ul class="conv-list">
        ${convs.length === 0 && html`<li class="muted small conv-none">Your conversations stay in this browser tab until you sign out.</li>`}
        ${convs.map((c) => html`<li class=${c.id === curId ? 'on' : ''}>
          <button type="button" class="conv" onClick=${() => !busy && setCurId(c.id)} aria-current=${c.id === curId ? 'true' : undefined}>
            <${Icon} name="chat" size=${14} /><span>${c.title || 'New chat'}</span></button>
          <${IconButton} icon="trash" label=${`Delete "${c.title}"`} onClick=${() => removeConv(c.id)} disabled=${busy} />
        </li>`)}
      </ul>
    </aside>
    <section class="chat-main" aria-label="Conversation">
      <div class="chat-bar">
        ${title}
        <label for="chat-llm">Model</label>
        <select id="chat-llm" class="input input-inline" value=${llmId} disabled=${busy}
          onChange=${(e) => { setLlmId(e.currentTarget.value); const l = available.find((x) => x.id === Number(e.currentTarget.value)); setModel((l && l.default_model) || ''); }}>
          ${available.map((l) => html`<option value=${l.id}>${l.name} · ${vendorName(l.vendor)}</option>`)}
        </select>
        <label class="sr-only" for="chat-model">Model name</label>
        <input id="chat-model" class="input input-inline mono" value=${model} placeholder="model name" disabled=${busy}
          onInput=${(e) => setModel(e.currentTarget.value)} size="18" />
      </div>
      <div class="chat-log" ref=${listRef} aria-live="polite" aria-busy=${busy}>
        ${messages.length === 0 ? html`<div class="chat-hello">
            <div class="chat-hello-icon"><${Icon} name="sparkle" size=${26} /></div>
            <h2>How can I help?</h2>
            <p class="muted">You are chatting with <strong>${llm ? llm.name : ''}</strong>. Answers stream in as they are written.</p>
          </div>`
          : messages.map((m, i) => html`<${Message} m=${m} key=${i} streaming=${busy && i === messages.length - 1} />`)}
      </div>
      <form class="composer" onSubmit=${(e) => { e.preventDefault(); send(); }}>
        <label class="sr-only" for=${inputId}>Message</label>
        <textarea id=${inputId} ref=${inputRef} class="input" rows="1" placeholder=${`Message ${llm ? llm.name : ''}…`}
          value=${input} onInput=${(e) => { setInput(e.currentTarget.value); e.currentTarget.style.height = 'auto'; e.currentTarget.style.height = `${Math.min(200, e.currentTarget.scrollHeight)}px`; }}
          onKeyDown=${onKeyDown} autofocus data-testid="chat-input"></textarea>
        ${busy ? html`<${Button} kind="secondary" icon="stop" onClick=${() => abortRef.current && abortRef.current.abort()}>Stop<//>`
          : html`<button type="submit" class="btn btn-primary" disabled=${!input.trim()} data-testid="chat-send"><${Icon} name="send" size=${16} /><span>Send</span></button>`}
      </form>
      <p class="composer-hint muted small">Enter sends · Shift+Enter adds a line</p>
    </section>
  </div>`;
}
