// app/plugins.js: plugins (admins): isolated processes the gateway calls
// over gRPC at a stage of the request path, attached to LLMs.
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Chip, Dialog, DialogForm, TextField, TextArea, SelectField, Toggle, CheckList,
  RowActions, IconButton, EmptyState, useAction, usePagedList, confirmDialog, toast,
} from './ui.js';
import { dateTime } from './format.js';
import { STAGES, stageName, syncAttachments, useRefs } from './filters.js';

function PluginDialog({ plugin, onClose, onSaved }) {
  const [f, setF] = useState(() => ({
    name: plugin ? plugin.name : '', description: plugin ? plugin.description || '' : '', hook: plugin ? plugin.hook : 'post_auth',
    command: plugin ? plugin.command : '', namespace: plugin ? plugin.namespace : '', active: plugin ? plugin.active : true,
    config: plugin ? JSON.stringify(plugin.config || {}, null, 2) : '{}', llm_ids: plugin && plugin.llm_ids ? [...plugin.llm_ids] : [],
  }));
  const set = (p) => setF((x) => ({ ...x, ...p }));
  const refs = useRefs();
  const act = useAction();
  const save = () => act.run(async () => {
    if (!f.name.trim() || !f.command.trim()) throw new Error('Enter a name and the command or endpoint of the plugin.');
    let config;
    try { config = JSON.parse(f.config || '{}'); } catch { throw new Error('The configuration is not valid JSON.'); }
    const b = { name: f.name.trim(), description: f.description, hook: f.hook, command: f.command.trim(), namespace: f.namespace, active: f.active, config };
    const r = plugin ? await api.patch(`/plugins/${plugin.id}`, b) : await api.post('/plugins', b);
    await syncAttachments('plugins', r.id, plugin ? plugin.llm_ids || [] : [], f.llm_ids);
    toast(plugin ? `Saved ${r.name}` : `Created ${r.name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  const llms = refs.data ? refs.data.llms : [];
  return html`<${Dialog} open title=${plugin ? `Edit ${plugin.name}` : 'Add a plugin'} size="lg" onClose=${onClose}
      description="A plugin runs as its own process; the gateway calls it over gRPC.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel=${plugin ? 'Save changes' : 'Create plugin'}>
      <div class="form-grid">
        <${TextField} label="Name" value=${f.name} onInput=${(v) => set({ name: v })} required autofocus placeholder="pii-scrubber" />
        <${SelectField} label="Hook" value=${f.hook} onChange=${(v) => set({ hook: v })} options=${STAGES} />
        <${TextField} class="span-2" label="Command or endpoint" value=${f.command} onInput=${(v) => set({ command: v })} required mono
          placeholder="grpc://127.0.0.1:7001" hint="file:///opt/plugins/name to start a process, or grpc://host:port for a running one." />
        <${SelectField} label="Namespace" value=${f.namespace} onChange=${(v) => set({ namespace: v })}
          options=${[['', 'Global'], ...(refs.data ? refs.data.namespaces : []).filter((n) => n.name).map((n) => [n.name, n.name])]} />
        <${TextArea} label="Description" rows=${2} value=${f.description} onInput=${(v) => set({ description: v })} />
      </div>
      <${TextArea} label="Configuration (JSON)" mono rows=${5} value=${f.config} onInput=${(v) => set({ config: v })} />
      <${CheckList} label="Attached to LLMs" items=${llms.map((l) => ({ id: l.id, label: l.name }))} selected=${f.llm_ids}
        onChange=${(v) => set({ llm_ids: v })} empty="No LLMs yet." />
      <${Toggle} label="Active" checked=${f.active} onChange=${(v) => set({ active: v })} />
    <//>
  <//>`;
}

export function PluginsPage() {
  const list = usePagedList((p) => api.get('/plugins', p), []);
  const refs = useRefs();
  const [dlg, setDlg] = useState(null);
  const llmName = (id) => { const l = refs.data && refs.data.llms.find((x) => x.id === id); return l ? l.name : `#${id}`; };
  const remove = (x) => confirmDialog({
    title: `Delete ${x.name}?`, danger: true, confirmLabel: 'Delete plugin',
    text: 'It is detached from every LLM.', action: () => api.del(`/plugins/${x.id}`),
  }).then((ok) => { if (ok) { toast(`Deleted ${x.name}`, 'success'); list.reload(); } });
  const cols = [
    { key: 'name', label: 'Plugin', render: (x) => html`<div class="cell-main"><strong>${x.name}</strong>${x.description && html`<span class="muted small clamp">${x.description}</span>`}</div>` },
    { key: 'hook', label: 'Hook', render: (x) => stageName(x.hook) },
    { key: 'command', label: 'Command', class: 'cell-url', render: (x) => html`<code class="small">${x.command}</code>` },
    { key: 'llms', label: 'LLMs', render: (x) => ((x.llm_ids || []).length ? html`<div class="chips">${x.llm_ids.map((id) => html`<${Chip} tone="blue">${llmName(id)}<//>`)}</div>` : html`<span class="muted">Not attached</span>`) },
    { key: 'active', label: 'Status', render: (x) => html`<${Chip} tone=${x.active ? 'green' : 'gray'} dot>${x.active ? 'Active' : 'Inactive'}<//>` },
    { key: 'updated', label: 'Updated', render: (x) => html`<span class="small muted">${dateTime(x.updated_at)}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (x) => html`<${RowActions}>
      <${IconButton} icon="edit" label=${`Edit ${x.name}`} onClick=${() => setDlg(x)} />
      <${IconButton} icon="trash" kind="danger" label=${`Delete ${x.name}`} onClick=${() => remove(x)} /><//>` },
  ];
  return html`
    <${PageHeader} title="Plugins" icon="plug" description="Extend the request path with your own code, isolated in its own process."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add plugin<//>`} />
    <${Card} pad=${false} title="All plugins">
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Plugins"
        empty=${html`<${EmptyState} icon="plug" title="No plugins yet" text="Plugins add custom authentication, routing or content checks at any stage of a request."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Add plugin<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${PluginDialog} plugin=${dlg.id ? dlg : null} onClose=${() => setDlg(null)} onSaved=${() => { setDlg(null); list.reload(); }} />`}`;
}
