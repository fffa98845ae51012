// app/keys.js: the lifecycle of an app's API keys and of personal API tokens,
// shared by the app page (apps.js) and the account page (account.js): the
// expiry fields of the create / edit / rotate forms, the expiry and status
// columns. The rules (what a valid expiry or overlap is) are the
// database's; these only offer choices and show its answers.
import { html } from './deps.js';
import { Chip, StatusChip } from './ui.js';
import { dateTime } from './format.js';

const DAY = 86400e3;

// "Expires" on create: a preset or a chosen date ('' = never).
const PRESETS = [['', 'Never'], ['7', 'In 7 days'], ['30', 'In 30 days'], ['90', 'In 90 days'], ['365', 'In a year'],
  ['custom', 'On a date…']];

// datetime-local <-> ISO (the input shows local time)
const pad = (n) => String(n).padStart(2, '0');
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fromLocalInput(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString(); // an invalid date: the database says why
}

// The create form's expiry: expires_in (a preset) and expires_on (a date),
// sent as expires_at (omitted for never).
export const expiryCreateFields = [
  { name: 'expires_in', label: 'Expires', type: 'select', send: false, default: '',
    options: () => PRESETS, hint: 'Requests with the key are refused from then on.' },
  { name: 'expires_on', label: 'Expiry date', input: 'datetime-local', send: false, show: (v) => v.expires_in === 'custom' },
];
export function expiryCreateBody(v) {
  if (v.expires_in === 'custom') return v.expires_on ? { expires_at: fromLocalInput(v.expires_on) } : {};
  if (v.expires_in) return { expires_at: new Date(Date.now() + Number(v.expires_in) * DAY).toISOString() };
  return {};
}
export function checkExpiryCreate(v, fieldError) {
  if (v.expires_in === 'custom' && !v.expires_on) throw fieldError('expires_on', 'Choose the date the key stops working.');
}

// The edit form's expiry: the date as it is ('' = never; clearing it removes the expiry).
export const expiryEditField = {
  name: 'expires_at', label: 'Expires', input: 'datetime-local',
  value: (row) => toLocalInput(row && row.expires_at), out: (v) => fromLocalInput(v),
  hint: 'Empty: the key never expires.',
};

// Rotation: how long the old key keeps working.
export const OVERLAPS = [['0', 'Stops at once'], ['5', 'Works 5 more minutes'], ['60', 'Works 1 more hour'],
  ['1440', 'Works 1 more day'], ['10080', 'Works 7 more days']];
// (the rotate form edits a row, whose body holds only changed fields: its
// save sends rotateBody(values), the overlap always)
export const overlapField = {
  name: 'overlap_minutes', label: 'The old key', type: 'select', default: '60', options: () => OVERLAPS, send: false,
  hint: 'During the overlap both keys work, so the application can switch without downtime; then the old key is refused as expired.',
};
export const rotateBody = (v) => ({ overlap_minutes: Number(v.overlap_minutes) });

export function expiryCell(row) {
  if (!row.expires_at) return html`<span class="muted small">Never</span>`;
  return html`<span class="small" title=${row.expires_at}>${dateTime(row.expires_at)}</span>`;
}

export function keyStatus(row) {
  if (!row.active) return html`<${StatusChip} on=${false} no="Revoked" />`;
  if (row.expired) return html`<${Chip} tone="red" dot>Expired<//>`;
  if (row.expires_at && new Date(row.expires_at).getTime() - Date.now() < 7 * DAY) {
    return html`<${Chip} tone="yellow" dot title=${`Expires ${dateTime(row.expires_at)}`}>Expires soon<//>`;
  }
  return html`<${StatusChip} on />`;
}
