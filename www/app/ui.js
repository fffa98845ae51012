// app/ui.js: the shared building blocks of every page — page header,
// buttons, tables with loading and empty states, the pager, dialogs (native
// <dialog>: focus moves in, Esc closes), form fields with labels and their
// errors, the $SECRET/ picker, error banners, chips (also the vendor, role
// and status chips, labelled from lookups.js), toasts, a confirm dialog,
// copy-to-clipboard, and the data-loading hooks.
import { html, useState, useEffect, useRef, useCallback } from './deps.js';
import { Icon } from './icons.js';
import { describeError } from './api.js';
import { vendor, vendorName, roleName, rankOf } from './lookups.js';

// ---- data loading ----------------------------------------------------------

// Runs fn() now and whenever deps change (or reload() is called); keeps the
// last data while reloading so the page does not flicker. refresh() is a
// quiet reload for polling: no loading state, and a failure keeps the data
// it had (the error is still reported).
export function useFetch(fn, deps = []) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  const quiet = useRef(false);
  useEffect(() => {
    let live = true;
    const q = quiet.current;
    quiet.current = false;
    if (!q) setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve().then(fn).then(
      (data) => { if (live) setState({ loading: false, data, error: null }); },
      (error) => { if (live) setState((s) => ({ loading: false, data: q ? s.data : null, error })); },
    );
    return () => { live = false; };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const refresh = useCallback(() => { quiet.current = true; setTick((t) => t + 1); }, []);
  return { ...state, reload, refresh };
}

// Calls fn every ms milliseconds while the page is visible (polling).
export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!ms) return undefined;
    const t = setInterval(() => { if (!document.hidden) saved.current(); }, ms);
    return () => clearInterval(t);
  }, [ms]);
}

// ---- layout ----------------------------------------------------------------

export function PageHeader({ title, description, actions, icon }) {
  return html`<header class="page-header">
    <div class="page-title">
      ${icon && html`<span class="page-icon"><${Icon} name=${icon} size=${20} /></span>`}
      <div>
        <h1>${title}</h1>
        ${description && html`<p class="page-desc">${description}</p>`}
      </div>
    </div>
    ${actions && html`<div class="page-actions">${actions}</div>`}
  </header>`;
}

export function Card({ title, subtitle, actions, children, class: cls = '', pad = true }) {
  return html`<section class=${`card ${cls}`}>
    ${(title || actions) && html`<div class="card-head">
      <div><h2>${title}</h2>${subtitle && html`<p class="card-sub">${subtitle}</p>`}</div>
      ${actions && html`<div class="card-actions">${actions}</div>`}
    </div>`}
    <div class=${pad ? 'card-body' : 'card-body flush'}>${children}</div>
  </section>`;
}

export function Button({ kind = 'secondary', size, icon, children, class: cls = '', busy, ...rest }) {
  return html`<button type="button" class=${`btn btn-${kind} ${size ? `btn-${size}` : ''} ${cls}`}
    disabled=${busy || rest.disabled} aria-busy=${busy ? 'true' : undefined} ...${rest}>
    ${busy ? html`<span class="spinner sm" aria-hidden="true"></span>` : icon && html`<${Icon} name=${icon} size=${16} />`}
    ${children && html`<span>${children}</span>`}
  </button>`;
}

export function Spinner({ label = 'Loading…' }) {
  return html`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span><span>${label}</span></div>`;
}

export function EmptyState({ icon = 'layers', title, text, action }) {
  return html`<div class="empty">
    <div class="empty-icon"><${Icon} name=${icon} size=${26} /></div>
    <h3>${title}</h3>
    ${text && html`<p>${text}</p>`}
    ${action && html`<div class="empty-action">${action}</div>`}
  </div>`;
}

// A request that may succeed when sent again: no answer, a timeout, too
// many requests, a server error. A refusal (400, 403, 404, …) stays one:
// no Retry button for it.
export function retryable(error) {
  const s = error && error.status;
  return s === undefined || s === null || s === 0 || s === 408 || s === 425 || s === 429 || s >= 500;
}

export function ErrorBanner({ error, onRetry }) {
  const d = describeError(error);
  if (!d) return null;
  if (!retryable(error)) onRetry = null;
  return html`<div class="alert alert-error" role="alert">
    <${Icon} name="alert" size=${18} />
    <div class="alert-body">
      <strong>${d.message}</strong>
      ${d.detail && html`<div>${d.detail}</div>`}
      ${d.hint && html`<div class="muted">${d.hint}</div>`}
    </div>
    ${onRetry && html`<${Button} size="sm" kind="ghost" icon="refresh" onClick=${onRetry}>Retry<//>`}
  </div>`;
}

export function Notice({ tone = 'info', icon = 'info', children }) {
  // one paragraph: its text, links and <strong>s flow on one line
  return html`<div class=${`alert alert-${tone}`}><${Icon} name=${icon} size=${18} /><div class="alert-body alert-prose">${children}</div></div>`;
}

// tone: green | yellow | orange | gray | blue | red | purple
export function Chip({ tone = 'gray', children, dot = false, title }) {
  return html`<span class=${`chip chip-${tone}`} title=${title}>${dot && html`<i class="dot"></i>`}${children}</span>`;
}

// A vendor, toned by the wire format it speaks (aistudio.vendors).
const WIRE_TONE = { openai: 'green', anthropic: 'orange', google: 'blue', ollama: 'gray' };
export function VendorChip({ vendor: name }) {
  const v = vendor(name);
  return html`<${Chip} tone=${(v && WIRE_TONE[v.wire_format]) || 'gray'}>${vendorName(name)}<//>`;
}

// A role, toned by its rank (lowest first).
const RANK_TONE = ['gray', 'green', 'blue', 'purple'];
export function RoleChip({ role }) {
  const rank = rankOf(role);
  return html`<${Chip} tone=${rank ? RANK_TONE[Math.min(rank, RANK_TONE.length) - 1] : 'gray'}>${roleName(role)}<//>`;
}

// Active / Inactive (or other words for on and off).
export function StatusChip({ on, yes = 'Active', no = 'Inactive' }) {
  return html`<${Chip} tone=${on ? 'green' : 'gray'} dot>${on ? yes : no}<//>`;
}

// ---- tables ----------------------------------------------------------------

// columns: [{ key, label, render(row), class, width }]
// A column with `sort` (the API's sort key) has a header button: the first
// click sorts ascending, the next descending (sort = "key" / "-key"); onSort
// gets the new value.
function SortHeader({ c, sort, onSort }) {
  const dir = sort === c.sort ? 'ascending' : sort === `-${c.sort}` ? 'descending' : null;
  return html`<th scope="col" class=${c.class || ''} style=${c.width ? `width:${c.width}` : ''} aria-sort=${dir || 'none'}>
    <button type="button" class="th-sort" data-sort=${c.sort} onClick=${() => onSort(dir === 'ascending' ? `-${c.sort}` : c.sort)}>
      ${c.label}<span class="th-sort-mark" aria-hidden="true">${dir === 'ascending' ? '▲' : dir === 'descending' ? '▼' : '↕'}</span></button></th>`;
}

export function Table({ columns, rows, loading, error, onRetry, empty, rowKey = (r) => r.id, caption, sort, onSort }) {
  if (error) return html`<div class="table-state"><${ErrorBanner} error=${error} onRetry=${onRetry} /></div>`;
  if (!rows && loading) {
    return html`<div class="table-wrap"><table class="table" aria-busy="true">
      <thead><tr>${columns.map((c) => html`<th class=${c.class || ''}>${c.label}</th>`)}</tr></thead>
      <tbody>${[0, 1, 2, 3, 4].map((i) => html`<tr class="skeleton-row" key=${i}>
        ${columns.map(() => html`<td><span class="skeleton"></span></td>`)}</tr>`)}</tbody>
    </table></div>`;
  }
  if (rows && rows.length === 0) return empty || html`<${EmptyState} title="Nothing here yet" />`;
  return html`<div class=${`table-wrap ${loading ? 'is-loading' : ''}`}>
    <table class="table">
      ${caption && html`<caption class="sr-only">${caption}</caption>`}
      <thead><tr>${columns.map((c) => (c.sort && onSort ? html`<${SortHeader} c=${c} sort=${sort} onSort=${onSort} />`
        : html`<th scope="col" class=${c.class || ''} style=${c.width ? `width:${c.width}` : ''}>${c.label}</th>`))}</tr></thead>
      <tbody>
        ${(rows || []).map((r) => html`<tr key=${rowKey(r)}>
          ${columns.map((c) => html`<td class=${c.class || ''} data-label=${c.label}>${c.render ? c.render(r) : r[c.key]}</td>`)}
        </tr>`)}
      </tbody>
    </table>
  </div>`;
}

export function Pager({ page, pageSize, total, onPage }) {
  if (!total || total <= pageSize) {
    return total ? html`<div class="pager"><span class="muted">${total} ${total === 1 ? 'item' : 'items'}</span></div>` : null;
  }
  const last = Math.max(1, Math.ceil(total / pageSize));
  const from = (page - 1) * pageSize + 1;
  const to = Math.min(total, page * pageSize);
  return html`<nav class="pager" aria-label="Pages">
    <span class="muted">${from}–${to} of ${total}</span>
    <div class="pager-buttons">
      <${Button} size="sm" disabled=${page <= 1} onClick=${() => onPage(page - 1)}>Previous<//>
      <span class="pager-page">Page ${page} of ${last}</span>
      <${Button} size="sm" disabled=${page >= last} onClick=${() => onPage(page + 1)}>Next<//>
    </div>
  </nav>`;
}

export function RowActions({ children }) {
  return html`<div class="row-actions">${children}</div>`;
}

export function IconButton({ icon, label, kind = 'ghost', ...rest }) {
  return html`<button type="button" class=${`icon-btn icon-btn-${kind}`} aria-label=${label} title=${label} ...${rest}>
    <${Icon} name=${icon} size=${16} /></button>`;
}

// ---- dialogs ---------------------------------------------------------------

// The last element focused outside a dialog: a dialog gives the focus back
// to it, also when the button that opened it was disabled while busy.
let lastFocus = null;
document.addEventListener('focusin', (e) => {
  if (e.target instanceof Element && !e.target.closest('dialog')) lastFocus = e.target;
});

// A modal <dialog>: showModal() moves focus in and traps it; Esc (the
// "cancel" event) calls onClose. Put a <form> inside so Enter submits.
export function Dialog({ open, title, description, onClose, children, size = 'md', labelId }) {
  const ref = useRef(null);
  const id = labelId || `dlg-${title ? title.replace(/\W+/g, '-').toLowerCase() : 'x'}`;
  useEffect(() => {
    const d = ref.current;
    if (!d || !open) return undefined;
    // back to the control that opened it, also when the dialog unmounts open
    const active = document.activeElement;
    const opener = active && active !== document.body && !active.closest('dialog') ? active : lastFocus;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    };
  }, [open]);
  useEffect(() => {
    const d = ref.current;
    if (!d) return undefined;
    const onCancel = (e) => { e.preventDefault(); onClose && onClose(); };
    d.addEventListener('cancel', onCancel);
    return () => d.removeEventListener('cancel', onCancel);
  }, [onClose]);
  return html`<dialog ref=${ref} class=${`dialog dialog-${size}`} aria-labelledby=${id}>
    ${open && html`<div class="dialog-inner">
      <header class="dialog-head">
        <div><h2 id=${id}>${title}</h2>${description && html`<p class="muted">${description}</p>`}</div>
        <button type="button" class="icon-btn icon-btn-ghost" aria-label="Close" onClick=${onClose}><${Icon} name="x" size=${18} /></button>
      </header>
      ${children}
    </div>`}
  </dialog>`;
}

// A form inside a dialog: the body, an error banner, and Cancel / Submit.
export function DialogForm({ onSubmit, onCancel, submitLabel = 'Save', busy, error, children, danger, submitDisabled }) {
  const submit = (e) => { e.preventDefault(); if (!busy) onSubmit(); };
  return html`<form class="dialog-form" onSubmit=${submit} novalidate>
    <div class="dialog-body">
      ${error && html`<${ErrorBanner} error=${error} />`}
      ${children}
    </div>
    <footer class="dialog-foot">
      <${Button} kind="ghost" onClick=${onCancel}>Cancel<//>
      <button type="submit" class=${`btn ${danger ? 'btn-danger' : 'btn-primary'}`} disabled=${busy || submitDisabled}>
        ${busy && html`<span class="spinner sm" aria-hidden="true"></span>`}<span>${submitLabel}</span>
      </button>
    </footer>
  </form>`;
}

// Runs an async action for a form: busy while it runs, the error kept.
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(async (fn) => {
    setBusy(true);
    setError(null);
    try {
      const r = await fn();
      setBusy(false);
      return r;
    } catch (e) {
      setBusy(false);
      setError(e);
      throw e;
    }
  }, []);
  return { busy, error, setError, run };
}

// ---- form fields -----------------------------------------------------------

let fieldSeq = 0;
export function useId(prefix = 'f') {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}-${++fieldSeq}`;
  return ref.current;
}

// A labelled control with its hint and, when the last save failed on it,
// its error (error: { message, hint }).
export function Field({ label, hint, children, id, required, error, class: cls = '' }) {
  return html`<div class=${`field ${cls} ${error ? 'has-error' : ''}`}>
    <label for=${id}>${label}${required && html`<span class="req" aria-hidden="true">*</span>`}</label>
    ${children}
    ${error && html`<p class="field-error" id=${`${id}-error`}><${Icon} name="alert" size=${14} />
      <span>${error.message}${error.hint && html` <span class="muted">${error.hint}</span>`}</span></p>`}
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
  </div>`;
}

// The aria attributes of a control inside a Field.
function described(id, hint, error) {
  const ids = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ');
  return { 'aria-describedby': ids || undefined, 'aria-invalid': error ? 'true' : undefined };
}

export function TextField({ label, value, onInput, hint, required, type = 'text', autofocus, placeholder, mono, error, class: cls, ...rest }) {
  const id = useId('t');
  return html`<${Field} label=${label} hint=${hint} id=${id} required=${required} error=${error} class=${cls}>
    <input id=${id} class=${`input ${mono ? 'mono' : ''}`} type=${type} value=${value ?? ''} required=${required}
      autofocus=${autofocus} placeholder=${placeholder} ...${described(id, hint, error)}
      onInput=${(e) => onInput(e.currentTarget.value)} ...${rest} />
  <//>`;
}

export function TextArea({ label, value, onInput, hint, rows = 4, mono, error, class: cls, ...rest }) {
  const id = useId('ta');
  return html`<${Field} label=${label} hint=${hint} id=${id} error=${error} class=${cls}>
    <textarea id=${id} class=${`input ${mono ? 'mono' : ''}`} rows=${rows} value=${value ?? ''}
      ...${described(id, hint, error)} onInput=${(e) => onInput(e.currentTarget.value)} ...${rest}></textarea>
  <//>`;
}

// options: [[value, label]]
export function SelectField({ label, value, onChange, options, hint, required, error, class: cls, ...rest }) {
  const id = useId('s');
  return html`<${Field} label=${label} hint=${hint} id=${id} required=${required} error=${error} class=${cls}>
    <select id=${id} class="input" value=${value ?? ''} onChange=${(e) => onChange(e.currentTarget.value)}
      ...${described(id, hint, error)} ...${rest}>
      ${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    </select>
  <//>`;
}

export function Toggle({ label, checked, onChange, hint }) {
  const id = useId('c');
  return html`<div class="field field-toggle">
    <label class="toggle" for=${id}>
      <input id=${id} type="checkbox" role="switch" checked=${checked} onChange=${(e) => onChange(e.currentTarget.checked)} />
      <span class="toggle-track" aria-hidden="true"><span class="toggle-thumb"></span></span>
      <span>${label}</span>
    </label>
    ${hint && html`<p class="hint">${hint}</p>`}
  </div>`;
}

// A list of strings edited as chips: Enter or comma adds, Backspace on an
// empty input removes the last one. Enter on an empty input submits the form.
export function TagsInput({ label, values, onChange, hint, placeholder, mono = true, error }) {
  const id = useId('tags');
  const [text, setText] = useState('');
  const add = () => {
    const v = text.trim();
    if (v && !values.includes(v)) onChange([...values, v]);
    setText('');
  };
  const onKeyDown = (e) => {
    if ((e.key === 'Enter' || e.key === ',') && text.trim()) { e.preventDefault(); add(); }
    else if (e.key === 'Backspace' && !text && values.length) onChange(values.slice(0, -1));
  };
  return html`<${Field} label=${label} hint=${hint} id=${id} error=${error}>
    <div class="tags-input" onClick=${(e) => e.currentTarget.querySelector('input').focus()}>
      ${values.map((v) => html`<span class=${`tag ${mono ? 'mono' : ''}`}>${v}
        <button type="button" aria-label=${`Remove ${v}`} onClick=${() => onChange(values.filter((x) => x !== v))}>×</button></span>`)}
      <input id=${id} value=${text} placeholder=${values.length ? '' : placeholder}
        ...${described(id, hint, error)}
        onInput=${(e) => setText(e.currentTarget.value)} onKeyDown=${onKeyDown} onBlur=${add} />
    </div>
  <//>`;
}

// A set of checkboxes over items [{id, label, sub}].
export function CheckList({ label, items, selected, onChange, empty = 'Nothing to choose from.' }) {
  const toggle = (id) => onChange(selected.includes(id) ? selected.filter((x) => x !== id) : [...selected, id]);
  return html`<fieldset class="field checklist">
    <legend>${label}</legend>
    ${items.length === 0 ? html`<p class="muted">${empty}</p>` : items.map((it) => html`<label class="check">
      <input type="checkbox" checked=${selected.includes(it.id)} onChange=${() => toggle(it.id)} />
      <span>${it.label}</span>${it.sub && html`<span class="muted">${it.sub}</span>`}
    </label>`)}
  </fieldset>`;
}

// The $SECRET/ picker over the secret store's names (value: the name without
// the prefix; '' = none chosen), with a hint that links to the Secrets page
// while there are none. LLM keys and single sign-on client secrets use it.
export function SecretPicker({ id, value, onChange, secrets, label = 'Secret', placeholder = 'Choose a secret…', hint }) {
  return html`<div class="secret-pick">
      <label class="sr-only" for=${id}>${label}</label>
      <span class="secret-prefix mono">$SECRET/</span>
      <select id=${id} class="input mono" value=${value} onChange=${(e) => onChange(e.currentTarget.value)}
        data-testid="secret-picker">
        <option value="">${placeholder}</option>
        ${secrets.map((s) => html`<option value=${s.name}>${s.name}</option>`)}
      </select>
    </div>
    <p class="hint">${secrets.length === 0 ? html`No secrets yet — create one on the <a href="#/secrets">Secrets</a> page.` : hint}</p>`;
}

// ---- clipboard and secrets shown once ---------------------------------------

export async function copyText(text, fallbackInput) {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
  } catch { /* fall through */ }
  if (fallbackInput) {
    fallbackInput.focus();
    fallbackInput.select();
    try { return document.execCommand('copy'); } catch { return false; }
  }
  return false;
}

export function CopyField({ value, label = 'Value', id }) {
  const ref = useRef(null);
  const [copied, setCopied] = useState(false);
  const autoId = useId('copy');
  const fid = id || autoId;
  const copy = async () => {
    const ok = await copyText(value, ref.current);
    setCopied(ok);
    if (ok) toast('Copied to the clipboard', 'success');
    setTimeout(() => setCopied(false), 2000);
  };
  return html`<div class="copy-field">
    <label class="sr-only" for=${fid}>${label}</label>
    <input id=${fid} ref=${ref} class="input mono" readonly value=${value} onFocus=${(e) => e.currentTarget.select()} />
    <${Button} kind="primary" icon=${copied ? 'check' : 'copy'} onClick=${copy} data-testid="copy-button">${copied ? 'Copied' : 'Copy'}<//>
  </div>`;
}

// A key or token shown once, with a copy button and a warning.
export function SecretOnceDialog({ open, title, value, what = 'key', onClose, children }) {
  return html`<${Dialog} open=${open} title=${title} onClose=${onClose} size="md">
    <div class="dialog-body">
      <${Notice} tone="warning" icon="alert">
        <strong>Copy this ${what} now.</strong> It is shown only once: only a hash is stored, so it cannot be shown again.
      <//>
      <${CopyField} value=${value || ''} label=${`New ${what}`} id="secret-once-value" />
      ${children}
    </div>
    <footer class="dialog-foot"><${Button} kind="primary" onClick=${onClose}>I have copied it<//></footer>
  <//>`;
}

// ---- toasts and confirm ----------------------------------------------------

const toastListeners = new Set();
let toastSeq = 0;
export function toast(message, tone = 'info') {
  const t = { id: ++toastSeq, message, tone };
  toastListeners.forEach((fn) => fn(t));
}

export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const on = (t) => {
      setItems((xs) => [...xs, t]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== t.id)), 4000);
    };
    toastListeners.add(on);
    return () => toastListeners.delete(on);
  }, []);
  return html`<div class="toasts" role="status" aria-live="polite">
    ${items.map((t) => html`<div class=${`toast toast-${t.tone}`} key=${t.id}>
      <${Icon} name=${t.tone === 'error' ? 'alert' : t.tone === 'success' ? 'check' : 'info'} size=${16} />${t.message}</div>`)}
  </div>`;
}

let confirmHost = null;
// await confirmDialog({ title, text, confirmLabel, danger }) → true / false
export function confirmDialog(opts) {
  return new Promise((resolve) => {
    if (!confirmHost) { resolve(window.confirm(opts.text || opts.title)); return; }
    confirmHost({ ...opts, resolve });
  });
}

// Shows the confirmation; opts.action (async) runs inside, with its error shown.
export function ConfirmHost() {
  const [req, setReq] = useState(null);
  const act = useAction();
  useEffect(() => { confirmHost = (r) => { act.setError(null); setReq(r); }; return () => { confirmHost = null; }; }, []);
  const close = (v) => { if (req) req.resolve(v); setReq(null); };
  const ok = async () => {
    if (req.action) {
      try { await act.run(req.action); } catch { return; }
    }
    close(true);
  };
  return html`<${Dialog} open=${!!req} title=${req ? req.title : ''} onClose=${() => close(false)} size="sm" labelId="confirm-title">
    ${req && html`<${DialogForm} onSubmit=${ok} onCancel=${() => close(false)} submitLabel=${req.confirmLabel || 'Confirm'}
        danger=${req.danger} busy=${act.busy} error=${act.error}>
      <p>${req.text}</p>
    <//>`}
  <//>`;
}

// ---- misc ------------------------------------------------------------------

export function Stat({ label, value, sub, icon, tone = 'indigo' }) {
  return html`<div class="stat">
    <div class=${`stat-icon tone-${tone}`}><${Icon} name=${icon} size=${18} /></div>
    <div class="stat-body">
      <div class="stat-label">${label}</div>
      <div class="stat-value">${value}</div>
      ${sub && html`<div class="stat-sub">${sub}</div>`}
    </div>
  </div>`;
}

export function Progress({ value, label }) {
  const v = Math.max(0, Math.min(100, Number(value) || 0));
  const tone = v >= 100 ? 'red' : v >= 80 ? 'orange' : v >= 50 ? 'yellow' : 'green';
  return html`<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(v)}
    aria-label=${label}><div class=${`progress-bar pb-${tone}`} style=${`width:${v}%`}></div></div>`;
}

export function SearchBox({ value, onInput, placeholder = 'Search…', label = 'Search' }) {
  const id = useId('q');
  return html`<div class="search">
    <label class="sr-only" for=${id}>${label}</label>
    <${Icon} name="search" size=${16} />
    <input id=${id} type="search" class="input" placeholder=${placeholder} value=${value} onInput=${(e) => onInput(e.currentTarget.value)} />
  </div>`;
}

// A debounced copy of a value (for search boxes).
export function useDebounced(value, ms = 250) {
  const [v, setV] = useState(value);
  useEffect(() => { const t = setTimeout(() => setV(value), ms); return () => clearTimeout(t); }, [value, ms]);
  return v;
}

// A paged list: { page, setPage, pageSize, ...useFetch } over api.get(path).
export function usePagedList(fetchPage, deps = [], pageSize = 25) {
  const [page, setPage] = useState(1);
  useEffect(() => setPage(1), deps);
  const res = useFetch(() => fetchPage({ page, page_size: pageSize }), [page, ...deps]);
  return { ...res, page, setPage, pageSize };
}
