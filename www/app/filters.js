// app/filters.js: content filters (admins): block or redact by regular
// expression, cap the prompt size, or run a script, at a stage of the
// request path; attached to LLMs (in order of attachment).
import { html, useState } from './deps.js';
import { api, listAll } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, TextArea, SelectField, Toggle, TagsInput,
  CheckList, RowActions, IconButton, EmptyState, useAction, usePagedList, useFetch, confirmDialog, toast,
} from './ui.js';
import { dateTime } from './format.js';

export const STAGES = [
  ['pre_auth', 'Before authentication'], ['auth', 'Authentication'], ['post_auth', 'After authentication'],
  ['upstream', 'Before the upstream call'], ['on_response', 'On the response'],
];
export const stageName = (s) => (STAGES.find(([v]) => v === s) || [s, s])[1];

const TYPES = [
  ['regex_block', 'Block by pattern'], ['regex_redact', 'Redact by pattern'], ['max_prompt_chars', 'Limit prompt size'], ['script', 'Script'],
];
const typeName = (t) => (TYPES.find(([v]) => v === t) || [t, t])[1];

// Attaches to / detaches from LLMs so that exactly `want` hold the item.
export async function syncAttachments(kind, itemId, have, want) {
  const key = kind === 'filters' ? 'filter_id' : 'plugin_id';
  for (const id of want.filter((x) => !have.includes(x))) await api.post(`/llms/${id}/${kind}`, { [key]: itemId });
  for (const id of have.filter((x) => !want.includes(x))) await api.del(`/llms/${id}/${kind}/${itemId}`);
}

export function useRefs() {
  return useFetch(async () => {
    const [llms, namespaces] = await Promise.all([listAll('/llms'), listAll('/namespaces').catch(() => [])]);
    return { llms, namespaces };
  }, []);
}

function configOf(f) {
  if (f.filter_type === 'regex_block') return { patterns: f.patterns };
  if (f.filter_type === 'regex_redact') return f.replacement ? { patterns: f.patterns, replacement: f.replacement } : { patterns: f.patterns };
  if (f.filter_type === 'max_prompt_chars') return { max_chars: Number(f.max_chars) };
  try { return JSON.parse(f.script || '{}'); } catch { throw new Error('The script configuration is not valid JSON.'); }
}

function FilterDialog({ filter, onClose, onSaved }) {
  const c = filter ? filter.config || {} : {};
  const [f, setF] = useState(() => ({
    name: filter ? filter.name : '', description: filter ? filter.description || '' : '',
    filter_type: filter ? filter.filter_type : 'regex_block', stage: filter ? filter.stage : 'post_auth',
    namespace: filter ? filter.namespace : '', active: filter ? filter.active : true,
    patterns: Array.isArray(c.patterns) ? c.patterns : [], replacement: c.replacement || '',
    max_chars: c.max_chars ? String(c.max_chars) : '20000', script: filter && filter.filter_type === 'script' ? JSON.stringify(c, null, 2) : '{}',
    llm_ids: filter && filter.llm_ids ? [...filter.llm_ids] : [],
  }));
  const set = (p) => setF((x) => ({ ...x, ...p }));
  const refs = useRefs();
  const act = useAction();
  const save = () => act.run(async () => {
    if (!f.name.trim()) throw new Error('Give the filter a name.');
    const b = {
      name: f.name.trim(), description: f.description, filter_type: f.filter_type, stage: f.stage,
      namespace: f.namespace, active: f.active, config: configOf(f),
    };
    const r = filter ? await api.patch(`/filters/${filter.id}`, b) : await api.post('/filters', b);
    await syncAttachments('filters', r.id, filter ? filter.llm_ids || [] : [], f.llm_ids);
    toast(filter ? `Saved ${r.name}` : `Created ${r.name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  const llms = refs.data ? refs.data.llms : [];
  return html`<${Dialog} open title=${filter ? `Edit ${filter.name}` : 'Add a filter'} size="lg" onClose=${onClose}
      description="Filters inspect requests and responses on the gateway.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel=${filter ? 'Save changes' : 'Create filter'}>
      <div class="form-grid">
        <${TextField} label="Name" value=${f.name} onInput=${(v) => set({ name: v })} required autofocus placeholder="no-card-numbers" />
        <${SelectField} label="Type" value=${f.filter_type} onChange=${(v) => set({ filter_type: v })} options=${TYPES} />
        <${SelectField} label="Stage" value=${f.stage} onChange=${(v) => set({ stage: v })} options=${STAGES} />
        <${SelectField} label="Namespace" value=${f.namespace} onChange=${(v) => set({ namespace: v })}
          options=${[['', 'Global'], ...(refs.data ? refs.data.namespaces : []).filter((n) => n.name).map((n) => [n.name, n.name])]} />
        <${TextArea} class="span-2" label="Description" rows=${2} value=${f.description} onInput=${(v) => set({ description: v })} />
      </div>
      ${(f.filter_type === 'regex_block' || f.filter_type === 'regex_redact') && html`<${TagsInput} label="Patterns" values=${f.patterns}
        onChange=${(v) => set({ patterns: v })} placeholder="\\b\\d{16}\\b" hint="Regular expressions; press Enter after each." />`}
      ${f.filter_type === 'regex_redact' && html`<${TextField} label="Replacement" value=${f.replacement} onInput=${(v) => set({ replacement: v })} placeholder="[redacted]" />`}
      ${f.filter_type === 'max_prompt_chars' && html`<${TextField} label="Maximum prompt characters" type="number" min="1" value=${f.max_chars} onInput=${(v) => set({ max_chars: v })} />`}
      ${f.filter_type === 'script' && html`<${TextArea} label="Configuration (JSON)" mono rows=${6} value=${f.script} onInput=${(v) => set({ script: v })} />`}
      <${CheckList} label="Attached to LLMs" items=${llms.map((l) => ({ id: l.id, label: l.name, sub: l.namespace ? `namespace ${l.namespace}` : null }))}
        selected=${f.llm_ids} onChange=${(v) => set({ llm_ids: v })} empty="No LLMs yet." />
      <${Toggle} label="Active" checked=${f.active} onChange=${(v) => set({ active: v })} />
    <//>
  <//>`;
}

export function FiltersPage() {
  const list = usePagedList((p) => api.get('/filters', p), []);
  const refs = useRefs();
  const [dlg, setDlg] = useState(null);
  const llmName = (id) => { const l = refs.data && refs.data.llms.find((x) => x.id === id); return l ? l.name : `#${id}`; };
  const remove = (x) => confirmDialog({
    title: `Delete ${x.name}?`, danger: true, confirmLabel: 'Delete filter',
    text: 'It is detached from every LLM and stops running at once.', action: () => api.del(`/filters/${x.id}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${x.name}`, 'success'); list.reload(); } });
  const cols = [
    { key: 'name', label: 'Filter', render: (x) => html`<div class="cell-main"><strong>${x.name}</strong>${x.description && html`<span class="muted small clamp">${x.description}</span>`}</div>` },
    { key: 'type', label: 'Type', render: (x) => html`<${Chip} tone="purple">${typeName(x.filter_type)}<//>` },
    { key: 'stage', label: 'Stage', render: (x) => stageName(x.stage) },
    { key: 'llms', label: 'LLMs', render: (x) => ((x.llm_ids || []).length ? html`<div class="chips">${x.llm_ids.map((id) => html`<${Chip} tone="blue">${llmName(id)}<//>`)}</div>` : html`<span class="muted">Not attached</span>`) },
    { key: 'active', label: 'Status', render: (x) => html`<${Chip} tone=${x.active ? 'green' : 'gray'} dot>${x.active ? 'Active' : 'Inactive'}<//>` },
    { key: 'updated', label: 'Updated', render: (x) => html`<span class="small muted">${dateTime(x.updated_at)}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (x) => html`<${RowActions}>
      <${IconButton} icon="edit" label=${`Edit ${x.name}`} onClick=${() => setDlg(x)} />
      <${IconButton} icon="trash" kind="danger" label=${`Delete ${x.name}`} onClick=${() => remove(x)} /><//>` },
  ];
  return html`
    <${PageHeader} title="Filters" icon="filter" description="Block or redact sensitive content and cap prompt sizes before requests reach a vendor."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add filter<//>`} />
    <${Card} pad=${false} title="All filters">
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Filters"
        empty=${html`<${EmptyState} icon="filter" title="No filters yet" text="For example: block requests that contain card numbers, or redact email addresses."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add filter<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${FilterDialog} filter=${dlg.id ? dlg : null} onClose=${() => setDlg(null)} onSaved=${() => { setDlg(null); list.reload(); }} />`}`;
}
