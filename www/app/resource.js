// app/resource.js: one helper for the CRUD pages. A page describes its
// resource and ResourcePage renders the rest: the header with the create
// button, a card with the list's filters, the table (loading, empty and
// error states) and the pager, the create/edit dialog and the delete
// confirmation. Pages keep their special parts (detail views, charts,
// snippets) and may use the pieces alone: ResourceCard (the card, for a
// list inside another page) and ResourceDialog (the form, e.g. "Edit" on a
// detail page).
//
// A resource description (every function gets ctx = { me, refs, reload,
// open(row, form?), filters, query, ...extra }; a text may be a function of it):
//   path, itemPath(row)    list and create; one item (default path/id)
//   label(row)             the item's name in titles and toasts (row.name)
//   title, icon, description, listTitle, subtitle, caption (default: the
//                          title), pageSize, paged (false: every row, no
//                          pager), rowKey(row), pollMs (the list is
//                          reloaded quietly that often; then extra.onPoll())
//   filters: [{ name, kind: 'select' | 'search' | 'date', label, id, all, options(ctx), placeholder,
//              out(value) (the query value of a date: an instant) }]
//   refs(ctx)              lists the page needs (e.g. ['llms'] to name ids)
//   columns(ctx)           table columns ({ key, label, render(row), class, sort: the
//                          API's sort key: the header sorts by it, ?sort=key / -key })
//   create: { label, icon, size, testid, action(ctx) }  no action: the form
//   canCreate(ctx), canEdit(row, ctx), canRemove(row, ctx)   permissions
//   editIcon, editLabel(row), rowActions(row, ctx)  the row's buttons
//   remove: { title(row), text(row), confirmLabel, label(row), done(row) }
//   empty(ctx): { icon, title, text, action }       the empty list
//   headerActions(ctx), cardActions(ctx)            more buttons
//   form, forms: { name: form }                     the dialogs, see below
//   saved(r, row, ctx)     after a save (default: close and reload)
// A form: { add, create (the create dialog's title and button; an edit
//   dialog is "Edit <label>" with "Save changes"), or title(row) and
//   submitLabel(row); description, size, fields, init(row, ctx) (more
//   initial values), check(values, row, ctx) (throws), extra(values, row)
//   (more body fields), save(body, row, values, ctx), after(saved, values,
//   row, ctx), toast(saved, row), errorFields: { SQLSTATE: field } (a
//   duplicate, 23505, is the name's by default) }.
// fields: field descriptions; an array of them is one two-column grid.
// A field: { name, label, type: text | number | textarea | select |
//   namespace | toggle | tags | checklist | custom, hint, required, mono,
//   input (the <input> type), placeholder, autofocus, span2, attrs, default,
//   options(ctx, values, refs), items(refs, ctx), refs (the list it needs:
//   'secrets', 'llms', …, loaded when the dialog opens), when(ctx) (the field
//   is there at all), show(values, row, ctx) (shown now), fixed (shown, not
//   editable, on edit), createOnly, editOnly, send: false, omitEmpty,
//   value(row, ctx), out(value, values), onChange(value, values, ctx) →
//   patch, aliases (other names the API's messages use), render({ values,
//   set, row, ctx, refs, error }) for custom (ownsError: it shows the error
//   itself) }.
// Saving sends on create every shown field, on edit only what changed; an
// error the API (or a check) names a field by is shown on that field.
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, TextArea, SelectField, Toggle, TagsInput,
  CheckList, RowActions, IconButton, EmptyState, SearchBox, Spinner, useAction, usePagedList, useFetch, useDebounced,
  useInterval, confirmDialog, toast,
} from './ui.js';

const val = (x, ...args) => (typeof x === 'function' ? x(...args) : x);
const labelOf = (res, row) => (res.label ? res.label(row) : row.name);
export const itemPath = (res, row) => (res.itemPath ? res.itemPath(row) : `${res.path}/${row.id}`);

// An error for a field of the form, thrown by checks.
export function fieldError(field, message) {
  const e = new Error(message);
  e.field = field;
  return e;
}

// The lists a form or page needs, by name (GET /<name>, every row).
// Namespaces are optional: an empty list when they cannot be read.
export async function loadRefs(names) {
  const lists = await Promise.all(names.map((n) => listAll(`/${n}`).catch((e) => {
    if (n === 'namespaces') return [];
    throw e;
  })));
  return Object.fromEntries(names.map((n, i) => [n, lists[i]]));
}

// ---- things attached to LLMs (filters, plugins) ------------------------------

// The LLMs a row is attached to (llm_ids), named from ctx.refs.llms.
export function attachedColumn(ctx) {
  const name = (id) => { const l = (ctx.refs.llms || []).find((x) => x.id === id); return l ? l.name : `#${id}`; };
  return {
    key: 'llms', label: 'LLMs', render: (x) => ((x.llm_ids || []).length
      ? html`<div class="chips">${x.llm_ids.map((id) => html`<${Chip} tone="blue">${name(id)}<//>`)}</div>`
      : html`<span class="muted">Not attached</span>`),
  };
}

// The form's LLM checklist (form refs 'llms'); the form's after() attaches
// and detaches (api.js syncLlmAttachments).
export function attachedField(sub) {
  return {
    name: 'llm_ids', label: 'Attached to LLMs', type: 'checklist', refs: 'llms', send: false, empty: 'No LLMs yet.',
    items: (refs) => (refs.llms || []).map((l) => ({ id: l.id, label: l.name, sub: sub ? sub(l) : null })),
  };
}

// ---- the form --------------------------------------------------------------

const flat = (fields) => fields.flat();
const allowed = (f, ctx) => !f.when || f.when(ctx);
const shown = (f, values, row, ctx) => allowed(f, ctx) && (!f.show || f.show(values, row, ctx))
  && !(row && f.createOnly) && !(!row && f.editOnly);

// The lists the form's fields need (field.refs; a namespace field: namespaces).
const refNames = (form, ctx) => [...new Set(flat(form.fields).filter((f) => allowed(f, ctx))
  .map((f) => f.refs || (f.type === 'namespace' ? 'namespaces' : null)).filter(Boolean))];

function initialValue(f, row, ctx) {
  if (f.value) return f.value(row, ctx);
  const v = row ? row[f.name] : undefined;
  if (f.type === 'tags' || f.type === 'checklist') return [...(v ?? f.default ?? [])];
  if (f.type === 'toggle') return v ?? f.default ?? true;
  if (f.type === 'number') return v == null ? (row ? '' : f.default ?? '') : String(v);
  return v ?? f.default ?? '';
}

function initialValues(form, row, ctx) {
  const out = {};
  for (const f of flat(form.fields)) if (f.name && f.type !== 'custom') out[f.name] = initialValue(f, row, ctx);
  return { ...out, ...(form.init ? form.init(row, ctx) : {}) };
}

function outValue(f, v, values) {
  if (f.out) return f.out(v, values);
  if (f.type === 'number') return v === '' || v == null ? null : Number(v);
  if (typeof v === 'string') return v.trim();
  return v;
}

const empty = (v) => v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0);

// The request body: on create every shown field; on edit what changed.
function bodyOf(form, values, row, ctx) {
  const of = (vals) => {
    const b = {};
    for (const f of flat(form.fields)) {
      if (!f.name || f.send === false || (row && f.fixed) || !shown(f, vals, row, ctx)) continue;
      const v = outValue(f, vals[f.name], vals);
      if (v === undefined || (!row && f.omitEmpty && empty(v))) continue;
      b[f.name] = v;
    }
    return { ...b, ...(form.extra ? form.extra(vals, row, ctx) : {}) };
  };
  const body = of(values);
  if (!row) return body;
  const before = of(initialValues(form, row, ctx));
  return Object.fromEntries(Object.entries(body).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
}

// The field an error is about: a check's field, the form's errorFields for
// its SQLSTATE, or the field whose API name the message names.
function errorField(err, form, names) {
  if (!err) return null;
  if (err.field) return err.field;
  const byCode = { 23505: 'name', ...(form.errorFields || {}) }; // a duplicate: the name, unless the form says
  if (err.code && byCode[err.code] && names.some(([n]) => n === byCode[err.code])) return byCode[err.code];
  const msg = err.message || '';
  const quoted = /field "([^"]+)"/.exec(msg);
  if (quoted && names.some(([n]) => n === quoted[1])) return quoted[1];
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const hit = [...names].sort((a, b) => b[1].length - a[1].length)
    .find(([, alias]) => new RegExp(`(^|[^A-Za-z0-9_.])${esc(alias)}($|[^A-Za-z0-9_])`).test(msg));
  return hit ? hit[0] : null;
}

function FormField({ f, values, set, row, ctx, refs, refsLoading, error }) {
  const v = values[f.name];
  const onValue = (x) => set(f.onChange ? f.onChange(x, values, ctx) : { [f.name]: x });
  const common = {
    label: f.label, hint: val(f.hint, values, row, ctx), error, class: f.span2 ? 'span-2' : undefined, ...(f.attrs || {}),
  };
  const disabled = (row && f.fixed) || (f.disabled ? f.disabled(values, row, ctx) : false);
  switch (f.type) {
    case 'textarea':
      return html`<${TextArea} ...${common} value=${v} onInput=${onValue} rows=${f.rows || 4} mono=${f.mono} />`;
    case 'select':
      return html`<${SelectField} ...${common} value=${v} onChange=${onValue} options=${val(f.options, ctx, values, refs)}
        required=${f.required} disabled=${disabled} />`;
    case 'namespace':
      return html`<${SelectField} ...${common} value=${v} onChange=${onValue}
        options=${[['', f.global || 'Global'], ...(refs.namespaces || []).filter((n) => n.name).map((n) => [n.name, n.name])]} />`;
    case 'toggle':
      return html`<${Toggle} label=${f.label} checked=${v} onChange=${onValue} hint=${common.hint} />`;
    case 'tags':
      return html`<${TagsInput} ...${common} values=${v} onChange=${onValue} placeholder=${f.placeholder} mono=${f.mono !== false} />`;
    case 'checklist':
      if (refsLoading) return html`<${Spinner} label=${f.loading || 'Loading…'} />`;
      return html`<${CheckList} label=${f.label} items=${f.items(refs, ctx)} selected=${v} onChange=${onValue}
        empty=${val(f.empty, ctx)} />`;
    case 'custom':
      return html`${f.render({ values, set, row, ctx, refs, error })}${error && !f.ownsError
        && html`<p class="field-error">${error.message}</p>`}`;
    default:
      return html`<${TextField} ...${common} value=${v} onInput=${onValue} type=${f.type === 'number' ? 'number' : f.input || 'text'}
        required=${f.required} mono=${f.mono} placeholder=${f.placeholder} disabled=${disabled}
        autofocus=${val(f.autofocus, row)} />`;
  }
}

// The create (row = null) or edit dialog of a resource's form.
export function ResourceDialog({ res, form = res.form, row, ctx, onClose, onSaved }) {
  const [values, setValues] = useState(() => initialValues(form, row, ctx));
  const set = (patch) => setValues((x) => ({ ...x, ...patch }));
  const refs = useFetch(() => loadRefs(refNames(form, ctx)), []);
  const act = useAction();
  const save = () => act.run(async () => {
    if (form.check) form.check(values, row, ctx);
    const body = bodyOf(form, values, row, ctx);
    let saved;
    if (form.save) saved = await form.save(body, row, values, ctx);
    else if (row) saved = Object.keys(body).length ? await api.patch(itemPath(res, row), body) : row;
    else saved = await api.post(res.path, body);
    if (form.after) await form.after(saved, values, row, ctx);
    const said = form.toast ? form.toast(saved, row) : `${row ? 'Saved' : 'Created'} ${labelOf(res, saved)}`;
    if (said) toast(said, 'success');
    onSaved(saved, row);
  }).catch(() => {});
  const visible = (f) => shown(f, values, row, ctx);
  const names = flat(form.fields).filter((f) => f.name && visible(f))
    .flatMap((f) => [[f.name, f.name], ...(f.aliases || []).map((a) => [f.name, a])]);
  const onField = errorField(act.error, form, names);
  const fieldErr = (f) => (onField && f.name === onField ? { message: act.error.message, hint: act.error.hint } : null);
  const refsData = refs.data || {};
  const one = (f) => visible(f) && html`<${FormField} f=${f} values=${values} set=${set} row=${row} ctx=${ctx}
    refs=${refsData} refsLoading=${refs.loading && !refs.data} error=${fieldErr(f)} />`;
  const title = form.title ? val(form.title, row) : row ? `Edit ${labelOf(res, row)}` : form.add;
  const submit = form.submitLabel ? val(form.submitLabel, row) : row ? 'Save changes' : form.create;
  return html`<${Dialog} open title=${title} size=${form.size || 'md'} onClose=${onClose} description=${val(form.description, row)}>
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${onField ? null : act.error || refs.error}
        submitLabel=${submit}>
      ${form.fields.map((f) => (Array.isArray(f)
    ? (f.some(visible) && html`<div class="form-grid">${f.map(one)}</div>`) : one(f)))}
    <//>
  <//>`;
}

// ---- the list --------------------------------------------------------------

// The delete confirmation; resolves true once deleted.
export function removeRow(res, row, ctx) {
  const r = res.remove;
  const name = labelOf(res, row);
  return confirmDialog({
    title: r.title ? r.title(row) : `Delete ${name}?`, danger: true, confirmLabel: r.confirmLabel || 'Delete',
    text: val(r.text, row, ctx), action: () => api.del(itemPath(res, row)),
  }).then((ok) => {
    if (ok) { toast(r.done ? r.done(row) : `Deleted ${name}`, 'success'); ctx.reload(); }
    return ok;
  });
}

function useFilters(res) {
  const filters = res.filters || [];
  const [values, setValues] = useState(() => Object.fromEntries(filters.map((f) => [f.name, ''])));
  const search = filters.find((f) => f.kind === 'search');
  const q = useDebounced(search ? values[search.name] : '');
  const query = {};
  for (const f of filters) {
    const v = f.kind === 'search' ? q : values[f.name];
    if (v !== '') query[f.name] = f.out ? f.out(v) : v;
  }
  const set = (name, v) => setValues((x) => ({ ...x, [name]: v }));
  return { filters, values, query, set };
}

function FilterControls({ fl, ctx }) {
  return fl.filters.map((f) => (f.kind === 'search'
    ? html`<${SearchBox} value=${fl.values[f.name]} onInput=${(v) => fl.set(f.name, v)} placeholder=${f.placeholder} label=${f.label} />`
    : f.kind === 'date'
    ? html`<label class="inline-label" for=${f.id}>${f.label}</label>
      <input id=${f.id} type="date" class="input input-inline" value=${fl.values[f.name]}
        onChange=${(e) => fl.set(f.name, e.currentTarget.value)} />`
    : html`<label class="sr-only" for=${f.id}>${f.label}</label>
      <select id=${f.id} class="input input-inline" value=${fl.values[f.name]} onChange=${(e) => fl.set(f.name, e.currentTarget.value)}>
        <option value="">${f.all}</option>${val(f.options, ctx).map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`));
}

// The state of a resource's list: filters, the page of rows, the page's
// refs, the open dialog, and what the create button does.
function useResource(res, me, query, extra) {
  const fl = useFilters(res);
  const [sort, setSort] = useState('');
  const params = { ...fl.query, ...(sort ? { sort } : {}), ...query };
  const paged = usePagedList((p) => (res.paged === false
    ? listAll(res.path, params).then((data) => ({ data, total: data.length }))
    : api.get(res.path, { ...p, ...params })), [JSON.stringify(params)], res.pageSize);
  const refs = useFetch(() => (res.refs ? loadRefs(res.refs({ me, ...extra })) : Promise.resolve({})), []);
  useInterval(() => { paged.refresh(); if (extra.onPoll) extra.onPoll(); }, res.pollMs);
  const [dlg, setDlg] = useState(null); // { row, form } while a dialog is open
  const creating = useAction();
  const ctx = {
    me, refs: refs.data || {}, filters: fl.values, query: params, ...extra,
    // after a change: this list again, and what the page shows about it (extra.onChanged)
    reload: () => { paged.reload(); if (extra.onChanged) extra.onChanged(); },
    open: (row, form) => setDlg({ row, form }),
  };
  const create = res.create && (!res.canCreate || res.canCreate(ctx)) ? () => {
    if (!res.create.action) { setDlg({ row: null }); return; }
    creating.run(() => res.create.action(ctx)).catch((e) => toast(e.message, 'error'));
  } : null;
  // the empty list repeats the button, without its test id
  const createButton = (main) => create && html`<${Button} kind="primary" size=${main === 'card' ? res.create.size : undefined}
    icon=${res.create.icon || 'plus'} onClick=${create} busy=${creating.busy}
    data-testid=${main ? res.create.testid : undefined}>${res.create.label}<//>`;
  return { fl, paged, ctx, dlg, setDlg, create, createButton, creating, sort, setSort };
}

function RowButtons({ res, row, ctx, setDlg }) {
  const edit = res.form && (!res.canEdit || res.canEdit(row, ctx));
  const del = res.remove && (!res.canRemove || res.canRemove(row, ctx));
  const more = res.rowActions ? res.rowActions(row, ctx) : null;
  if (!edit && !del && !more) return null;
  const name = labelOf(res, row);
  return html`<${RowActions}>${more}
    ${edit && html`<${IconButton} icon=${res.editIcon || 'edit'} label=${res.editLabel ? res.editLabel(row) : `Edit ${name}`}
      onClick=${() => setDlg({ row })} />`}
    ${del && html`<${IconButton} icon=${res.remove.icon || 'trash'} kind="danger"
      label=${res.remove.label ? res.remove.label(row) : `Delete ${name}`} onClick=${() => removeRow(res, row, ctx)} />`}<//>`;
}

function cardOf(res, s, createInCard) {
  const { fl, paged, ctx, dlg, setDlg, create } = s;
  const columns = val(res.columns, ctx).filter(Boolean);
  if (res.form || res.remove || res.rowActions) {
    columns.push({ key: 'x', label: '', class: 'cell-actions', render: (row) => html`<${RowButtons} res=${res} row=${row} ctx=${ctx} setDlg=${setDlg} />` });
  }
  const e = val(res.empty, ctx) || { title: 'Nothing here yet' };
  const data = paged.data;
  const saved = (r, row) => {
    setDlg(null);
    if (res.saved) res.saved(r, row, ctx); else ctx.reload();
  };
  return html`<${Card} pad=${false} title=${val(res.listTitle, ctx)} subtitle=${val(res.subtitle, ctx)}
      actions=${html`<${FilterControls} fl=${fl} ctx=${ctx} />${res.cardActions && res.cardActions(ctx)}${createInCard && s.createButton('card')}`}>
    <${Table} columns=${columns} rows=${data && data.data} loading=${paged.loading} error=${paged.error} onRetry=${paged.reload}
      sort=${s.sort} onSort=${s.setSort}
      caption=${res.caption || [res.title, res.listTitle].find((t) => typeof t === 'string')} rowKey=${res.rowKey}
      empty=${html`<${EmptyState} icon=${e.icon || res.icon} title=${e.title} text=${e.text}
        action=${e.action && create && s.createButton()} />`} />
    ${res.paged !== false && html`<${Pager} page=${paged.page} pageSize=${paged.pageSize} total=${data && data.total} onPage=${paged.setPage} />`}
    ${dlg && html`<${ResourceDialog} res=${res} form=${dlg.form ? res.forms[dlg.form] : res.form} row=${dlg.row} ctx=${ctx}
      onClose=${() => setDlg(null)} onSaved=${saved} />`}
  <//>`;
}

// A resource's list as a card with its create button in the card's head,
// for a list inside another page. query: more list parameters from the
// page; extra: more for ctx.
export function ResourceCard({ res, me, query = {}, extra = {} }) {
  return cardOf(res, useResource(res, me, query, extra), true);
}

// A page of one resource: its header (with the create button) over its card.
// before / after: what goes between the header and the card, or after it.
export function ResourcePage({ res, me, query = {}, extra = {}, before, after }) {
  const s = useResource(res, me, query, extra);
  const button = s.createButton('header');
  const more = res.headerActions && res.headerActions(s.ctx);
  return html`
    <${PageHeader} title=${val(res.title, s.ctx)} icon=${res.icon} description=${val(res.description, s.ctx)}
      actions=${(more || button) && html`${more}${button}`} />
    ${before}
    ${cardOf(res, s, false)}
    ${after}`;
}
