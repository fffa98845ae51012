// app/notifications.js: budget notifications — an app or LLM crossed 50,
// 80, 90 or 100 % of its monthly budget. Admins see all; developers their
// own apps'. One alert groups the thresholds one rollup saw passed (GET
// /budget-alerts). Admins acknowledge them, one or all at once (out of the
// open list; the sidebar's unread badge follows), and see how each alert's
// deliveries to the alert targets went. Admins also
// see, first, the edges that are out of sync (pending or stale: they run
// an older configuration than the hub's), polled; the Edges page pushes.
import { html, useState, useEffect } from './deps.js';
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

// The open alerts, for the sidebar's unread badge: listeners get the count
// whenever the page or the badge learns it (an acknowledgement reloads it).
const unreadListeners = new Set();
export function onUnread(fn) { unreadListeners.add(fn); return () => unreadListeners.delete(fn); }
export async function refreshUnread() {
  const r = await api.get('/budget-alerts', { open: 'true', page_size: 1 });
  for (const fn of unreadListeners) fn(r.total);
  return r.total;
}

const DELIVERY_TONE = { delivered: 'green', pending: 'yellow', sending: 'yellow', failed: 'red' };
const DELIVERY_LABEL = { delivered: 'delivered', pending: 'waiting', sending: 'sending', failed: 'failed' };

// How an alert's deliveries went (admins): one chip per target.
function Deliveries({ list }) {
  if (!list || list.length === 0) return null;
  return html`<div class="chips" data-testid="alert-deliveries">${list.map((d) => html`<${Chip} tone=${DELIVERY_TONE[d.status] || 'gray'}
    title=${d.last_error ? `${d.attempts} attempt(s); last error: ${d.last_error}` : `${d.attempts} attempt(s)`}>
    ${d.kind === 'email' ? 'E-mail' : 'Webhook'} ${d.target}: ${DELIVERY_LABEL[d.status] || d.status}<//>`)}</div>`;
}

export function NotificationsPage({ me }) {
  const admin = isAdmin(me);
  const [open, setOpen] = useState(true);
  const list = usePagedList((p) => api.get('/budget-alerts', { ...p, open: open ? 'true' : undefined }), [open], 20);
  const reload = () => list.reload();
  const ack = async (n) => {
    try { await api.post(`/budget-alerts/${n.id}/acknowledge`); toast('Alert acknowledged', 'success'); reload(); } catch (e) { toast(e.message, 'error'); }
  };
  const ackAll = async () => {
    try {
      const r = await api.post('/budget-alerts/acknowledge');
      toast(r.acknowledged === 1 ? 'Acknowledged 1 alert' : `Acknowledged ${r.acknowledged} alerts`, 'success');
      reload();
    } catch (e) { toast(e.message, 'error'); }
  };
  // the badge follows what this page shows
  useEffect(() => { if (list.data) refreshUnread().catch(() => {}); }, [list.data]);
  const rows = list.data && list.data.data;
  const openCount = open && list.data ? list.data.total : 0;
  return html`
    <${PageHeader} title="Notifications" icon="bell" description="Budget alerts when an app or LLM passes 50, 80, 90 and 100 % of its monthly budget; thresholds passed at once are one alert."
      actions=${html`${admin && openCount > 0 && html`<${Button} icon="check" onClick=${ackAll} data-testid="ack-all">Acknowledge all (${openCount})<//>`}
        <div class="segmented" role="radiogroup" aria-label="Show">
        <button type="button" role="radio" aria-checked=${open} class=${open ? 'on' : ''} onClick=${() => setOpen(true)}>Open</button>
        <button type="button" role="radio" aria-checked=${!open} class=${!open ? 'on' : ''} onClick=${() => setOpen(false)}>All</button></div>`} />
    ${admin && html`<${EdgesOutOfSync} />`}
    <${Card} pad=${false}>
      ${list.error ? html`<div class="card-pad"><${ErrorBanner} error=${list.error} onRetry=${list.reload} /></div>`
        : !rows ? html`<${Spinner} />`
          : rows.length === 0 ? html`<${EmptyState} icon="bell" title=${open ? 'All caught up' : 'No notifications yet'}
            text=${admin ? html`You are told here when a budget is running out. <a href="#/alert-targets">Alert targets</a> send it on by webhook or e-mail.`
              : 'You are told here when a budget is running out.'} />`
            : html`<ul class="notif-list">${rows.map((n) => html`<li class=${n.acknowledged_at ? 'read' : ''} data-testid="alert">
                <div class=${`notif-badge tone-bg-${TONE(n.threshold)}`}>${n.threshold}%</div>
                <div class="notif-body">
                  <div><strong>${n.subject_name || `${n.subject} #${n.subject_id}`}</strong>
                    <${Chip} tone="gray">${n.subject === 'app' ? 'App' : 'LLM'}<//>
                    <span class="muted small" title=${dateTime(n.created_at)}>${ago(n.created_at)}</span></div>
                  <p>Spent ${money(n.spent)} of its ${money(n.budget)} monthly budget (period from ${n.period_start}).
                    ${n.thresholds && n.thresholds.length > 1 ? ` Passed ${n.thresholds.map((t) => `${t} %`).join(', ')} at once.` : ''}</p>
                  <${Progress} value=${(100 * Number(n.spent)) / Number(n.budget || 1)} label="Budget used" />
                  ${admin && html`<${Deliveries} list=${n.deliveries} />`}
                </div>
                ${n.acknowledged_at ? html`<span class="muted small">Acknowledged ${ago(n.acknowledged_at)}</span>`
                  : admin && html`<${Button} size="sm" icon="check" onClick=${() => ack(n)}>Acknowledge<//>`}
              </li>`)}</ul>`}
      <${Pager} page=${list.page} pageSize=${list.pageSize} total=${list.data && list.data.total} onPage=${list.setPage} />
    <//>`;
}
