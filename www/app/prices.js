// app/prices.js: model prices (admins), per million tokens: input, output,
// cache write and cache read (empty = the input price). The database
// computes every request's cost from these.
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Table, Pager, Button, Dialog, DialogForm, TextField, SelectField, RowActions, IconButton,
  EmptyState, useAction, usePagedList, confirmDialog, toast, Notice,
} from './ui.js';
import { VENDORS, price, money, dateTime } from './format.js';
import { VendorChip } from './llms.js';

const numOrNull = (s) => (s === '' || s === null || s === undefined ? null : Number(s));

function PriceDialog({ row, onClose, onSaved }) {
  const editing = !!row;
  const [f, setF] = useState(() => (row ? {
    vendor: row.vendor, model_name: row.model_name, input: String(row.input_per_mtok), output: String(row.output_per_mtok),
    cw: row.cache_write_per_mtok == null ? '' : String(row.cache_write_per_mtok),
    cr: row.cache_read_per_mtok == null ? '' : String(row.cache_read_per_mtok), currency: row.currency,
  } : { vendor: 'openai', model_name: '', input: '', output: '', cw: '', cr: '', currency: 'USD' }));
  const set = (p) => setF((x) => ({ ...x, ...p }));
  const act = useAction();
  const save = () => act.run(async () => {
    if (!editing && !f.model_name.trim()) throw new Error('Enter the model name exactly as requests send it.');
    if (f.input === '' || f.output === '') throw new Error('Enter the input and output prices.');
    const b = {
      input_per_mtok: Number(f.input), output_per_mtok: Number(f.output),
      cache_write_per_mtok: numOrNull(f.cw), cache_read_per_mtok: numOrNull(f.cr), currency: f.currency.trim() || 'USD',
    };
    const r = editing ? await api.patch(`/model-prices/${row.id}`, b)
      : await api.post('/model-prices', { vendor: f.vendor, model_name: f.model_name.trim(), ...b });
    toast(`Saved the price of ${r.model_name}`, 'success');
    onSaved(r);
  }).catch(() => {});
  // what 1,000 prompt + 1,000 completion tokens cost, as a check
  const sample = f.input !== '' && f.output !== '' ? (Number(f.input) + Number(f.output)) / 1000 : null;
  return html`<${Dialog} open title=${editing ? `Price of ${row.model_name}` : 'Set a model price'} onClose=${onClose}
      description="Prices are per million tokens.">
    <${DialogForm} onSubmit=${save} onCancel=${onClose} busy=${act.busy} error=${act.error} submitLabel="Save price">
      <div class="form-grid">
        <${SelectField} label="Vendor" value=${f.vendor} onChange=${(v) => set({ vendor: v })} options=${Object.entries(VENDORS)}
          disabled=${editing} />
        <${TextField} label="Model" value=${f.model_name} onInput=${(v) => set({ model_name: v })} mono required autofocus=${!editing}
          disabled=${editing} placeholder="gpt-4o" hint="As the model appears in requests and responses." />
        <${TextField} label="Input / 1M tokens" type="number" min="0" step="any" value=${f.input} onInput=${(v) => set({ input: v })}
          required autofocus=${editing} />
        <${TextField} label="Output / 1M tokens" type="number" min="0" step="any" value=${f.output} onInput=${(v) => set({ output: v })} required />
        <${TextField} label="Cache write / 1M" type="number" min="0" step="any" value=${f.cw} onInput=${(v) => set({ cw: v })}
          placeholder="same as input" />
        <${TextField} label="Cache read / 1M" type="number" min="0" step="any" value=${f.cr} onInput=${(v) => set({ cr: v })}
          placeholder="same as input" />
        <${TextField} label="Currency" value=${f.currency} onInput=${(v) => set({ currency: v.toUpperCase() })} maxLength="3" />
      </div>
      ${sample !== null && html`<${Notice}>1,000 prompt + 1,000 completion tokens cost <strong>${money(sample, f.currency || 'USD')}</strong>.<//>`}
    <//>
  <//>`;
}

export function PricesPage() {
  const [vendor, setVendor] = useState('');
  const list = usePagedList((p) => api.get('/model-prices', { ...p, vendor: vendor || undefined }), [vendor]);
  const [dlg, setDlg] = useState(null);
  const remove = (r) => confirmDialog({
    title: `Delete the price of ${r.model_name}?`, danger: true, confirmLabel: 'Delete price',
    text: 'Requests for this model will then cost 0 until a price is set again.',
    action: () => api.del(`/model-prices/${r.id}`),
  }).then((ok) => { if (ok) { toast('Price deleted', 'success'); list.reload(); } });
  const cols = [
    { key: 'model_name', label: 'Model', render: (r) => html`<code class="strong">${r.model_name}</code>` },
    { key: 'vendor', label: 'Vendor', render: (r) => html`<${VendorChip} vendor=${r.vendor} />` },
    { key: 'in', label: 'Input / 1M', class: 'num', render: (r) => price(r.input_per_mtok, r.currency) },
    { key: 'out', label: 'Output / 1M', class: 'num', render: (r) => price(r.output_per_mtok, r.currency) },
    { key: 'cw', label: 'Cache write', class: 'num', render: (r) => (r.cache_write_per_mtok == null ? html`<span class="muted">= input</span>` : price(r.cache_write_per_mtok, r.currency)) },
    { key: 'cr', label: 'Cache read', class: 'num', render: (r) => (r.cache_read_per_mtok == null ? html`<span class="muted">= input</span>` : price(r.cache_read_per_mtok, r.currency)) },
    { key: 'updated_at', label: 'Updated', render: (r) => html`<span class="muted small">${dateTime(r.updated_at)}</span>` },
    { key: 'x', label: '', class: 'cell-actions', render: (r) => html`<${RowActions}>
      <${IconButton} icon="edit" label=${`Edit the price of ${r.model_name}`} onClick=${() => setDlg(r)} />
      <${IconButton} icon="trash" kind="danger" label=${`Delete the price of ${r.model_name}`} onClick=${() => remove(r)} /><//>` },
  ];
  return html`
    <${PageHeader} title="Model prices" icon="tag" description="What each model costs per million tokens. Costs are computed in the database, exactly."
      actions=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Set price<//>`} />
    <${Card} pad=${false} title="Price list" actions=${html`<label class="sr-only" for="price-vendor">Vendor</label>
      <select id="price-vendor" class="input input-inline" value=${vendor} onChange=${(e) => setVendor(e.currentTarget.value)}>
        <option value="">All vendors</option>${Object.entries(VENDORS).map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`}>
      <${Table} columns=${cols} rows=${list.data && list.data.data} loading=${list.loading} error=${list.error} onRetry=${list.reload}
        caption="Model prices"
        empty=${html`<${EmptyState} icon="tag" title="No prices yet" text="Without a price, requests are recorded with a cost of 0."
          action=${html`<${Button} kind="primary" icon="plus" onClick=${() => setDlg({})}>Set price<//>`} />`} />
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>
    ${dlg && html`<${PriceDialog} row=${dlg.id ? dlg : null} onClose=${() => setDlg(null)} onSaved=${() => { setDlg(null); list.reload(); }} />`}`;
}
