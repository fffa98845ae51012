// app/notifications.js: budget notifications — an app or LLM crossed 50,
// 80, 90 or 100 % of its monthly budget. Admins see all; developers their
// own apps'. Admins acknowledge them (out of the open list). Admins also
// see, first, the edges that are out of sync (pending or stale: they run
// an older configuration than the hub's), polled; the Edges page pushes.
import { html, useState } from './deps.js';
import { api } from './api.js';
import {
  PageHeader, Card, Button, EmptyState, ErrorBanner, Spinner, Progress, Pager, Notice, usePagedList, useFetch, useInterval, toast, Chip,
} from './ui.js';
import { money, ago, dateTime } from './format.js';
import { isAdmin } from './lookups.js';

const TONE = (t) => (t >= 100 ? 'red' : t >= 90 ? 'orange' : t >= 80 ? 'yellow' : 'blue');

// The edges out of sync (GET /edges?status=pending|stale), every 15 s.
function EdgesOutOfSync() {
  const q = useFetch(async () => {
    const [pending, stale] = await Promise.all(['pending', 'stale'].map((status) => api.get('/edges', { status, page_size: 5 })));
    return { pending, stale };
  }, []);
  useInterval(q.refresh, 15000);
  if (!q.data) return null;
  const { pending, stale } = q.data;
  const n = pending.total + stale.total;
  if (n === 0) return null;
  const some = [...stale.data, ...pending.data].slice(0, 5).map((e) => e.edge_id);
  const names = `${some.join(', ')}${n > some.length ? ', …' : ''}`;
  return html`<div data-testid="edges-out-of-sync"><${Notice} tone="warning" icon="server">
    <span><strong>${n} ${n === 1 ? 'edge is' : 'edges are'} out of sync</strong> (${pending.total} pending, ${stale.total} stale): ${names}. They run an older configuration than this hub's until you push.${' '}
    <a href="#/edges">Open Edges</a></span><//></div>`;
}

export function NotificationsPage({ me }) {
  const admin = isAdmin(me);
  const [open, setOpen] = useState(true);
  const list = usePagedList((p) => api.get('/notifications', { ...p, open: open ? 'true' : undefined }), [open], 20);
  const ack = async (n) => {
    try { await api.post(`/notifications/${n.id}/acknowledge`); toast('Notification acknowledged', 'success'); list.reload(); } catch (e) { toast(e.message, 'error'); }
  };
  const rows = list.data && list.data.data;
  return html`
    <${PageHeader} title="Notifications" icon="bell" description="Budget alerts when an app or LLM passes 50, 80, 90 and 100 % of its monthly budget."
      actions=${html`<div class="segmented" role="radiogroup" aria-label="Show">
        <button type="button" role="radio" aria-checked=${open} class=${open ? 'on' : ''} onClick=${() => setOpen(true)}>Open</button>
        <button type="button" role="radio" aria-checked=${!open} class=${!open ? 'on' : ''} onClick=${() => setOpen(false)}>All</button></div>`} />
    ${admin && html`<${EdgesOutOfSync} />`}
    <${Card} pad=${false}>
      ${list.error ? html`<div class="card-pad"><${ErrorBanner} error=${list.error} onRetry=${list.reload} /></div>`
        : !rows ? html`<${Spinner} />`
          : rows.length === 0 ? html`<${EmptyState} icon="bell" title=${open ? 'All caught up' : 'No notifications yet'}
            text="You are told here when a budget is running out." />`
            : html`<ul class="notif-list">${rows.map((n) => html`<li class=${n.acknowledged_at ? 'read' : ''}>
                <div class=${`notif-badge tone-bg-${TONE(n.threshold)}`}>${n.threshold}%</div>
                <div class="notif-body">
                  <div><strong>${n.subject_name || `${n.subject} #${n.subject_id}`}</strong>
                    <${Chip} tone="gray">${n.subject === 'app' ? 'App' : 'LLM'}<//>
                    <span class="muted small" title=${dateTime(n.created_at)}>${ago(n.created_at)}</span></div>
                  <p>Spent ${money(n.spent)} of its ${money(n.budget)} monthly budget (period from ${n.period_start}).</p>
                  <${Progress} value=${(100 * Number(n.spent)) / Number(n.budget || 1)} label="Budget used" />
                </div>
                ${n.acknowledged_at ? html`<span class="muted small">Acknowledged ${ago(n.acknowledged_at)}</span>`
                  : admin && html`<${Button} size="sm" icon="check" onClick=${() => ack(n)}>Acknowledge<//>`}
              </li>`)}</ul>`}
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>`;
}
