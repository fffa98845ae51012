// app/format.js: how numbers, money, tokens and dates read in the UI, and
// the deployment's gateway URLs. (Vendor and role names: lookups.js.)

const intFmt = new Intl.NumberFormat('en-US');
const compactFmt = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function num(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  return intFmt.format(Number(n));
}

export function compact(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  const v = Number(n);
  return Math.abs(v) < 10000 ? intFmt.format(v) : compactFmt.format(v);
}

// Costs are often fractions of a cent: show enough digits to see them.
export function money(v, currency = 'USD') {
  if (v === null || v === undefined || v === '') return '—';
  const n = Number(v);
  const abs = Math.abs(n);
  let digits = 2;
  if (abs > 0 && abs < 0.01) digits = 6;
  else if (abs > 0 && abs < 1) digits = 4;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency', currency: currency || 'USD', minimumFractionDigits: 2, maximumFractionDigits: digits,
    }).format(n);
  } catch {
    return `${n.toFixed(digits)} ${currency}`;
  }
}

// Prices per million tokens: "$2.50".
export function price(v, currency = 'USD') {
  if (v === null || v === undefined) return '—';
  return money(v, currency);
}

// Percentages read one way everywhere: whole numbers from 10 %, one decimal
// below (a trailing .0 dropped: "0%", "5%", "2.5%"), and a share too small
// to show as such "<0.1%", never "0.0%".
const pctFmt = [new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }), new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })];
export function pct(v) {
  if (v === null || v === undefined || v === '' || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  if (n !== 0 && Math.abs(n) < 0.05) return n > 0 ? '<0.1%' : '>-0.1%';
  return `${pctFmt[Math.abs(n) >= 10 ? 1 : 0].format(n)}%`;
}

// What is left of a budget: "$2.50 left", or "over by $0.001953" once the
// spend passed it (never a negative amount left).
export function budgetLeft(remaining, currency = 'USD') {
  if (remaining === null || remaining === undefined || remaining === '') return '';
  const n = Number(remaining);
  return n < 0 ? `over by ${money(-n, currency)}` : `${money(n, currency)} left`;
}

const dateFmt = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });

export function dateTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : dateFmt.format(d);
}

export function day(s) {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : dayFmt.format(d);
}

// "3 min ago", "in 2 h", or the date for older times.
export function ago(s) {
  if (!s) return 'never';
  const t = new Date(s).getTime();
  if (Number.isNaN(t)) return String(s);
  const diff = (Date.now() - t) / 1000;
  const a = Math.abs(diff);
  const unit = a < 60 ? [Math.round(a), 's'] : a < 3600 ? [Math.round(a / 60), 'min'] : a < 86400
    ? [Math.round(a / 3600), 'h'] : a < 30 * 86400 ? [Math.round(a / 86400), 'd'] : null;
  if (!unit) return day(s);
  if (a < 5) return 'just now';
  return diff >= 0 ? `${unit[0]} ${unit[1]} ago` : `in ${unit[0]} ${unit[1]}`;
}

export function initials(name, email) {
  const src = (name || email || '?').trim();
  const parts = src.split(/[\s@._-]+/).filter(Boolean);
  return ((parts[0] || '?')[0] + (parts[1] ? parts[1][0] : '')).toUpperCase();
}

// What the server says about this deployment (GET /api/v1/info, loaded
// once at start by main.js): GATEWAY_PUBLIC_URL, the ports and the mode.
let deployment = { gateway_url: null, proxy_port: 9090, docs_port: 8989, docs_enabled: false, grpc_port: 50051, mode: 'standalone' };
export function setDeployment(info) {
  if (info && typeof info === 'object') deployment = { ...deployment, ...info };
}

// The gateway's base URL for an LLM as apps call it: GATEWAY_PUBLIC_URL
// when it is set, else this host on PROXY_PORT.
export function gatewayOrigin() {
  return deployment.gateway_url || `${location.protocol}//${location.hostname}:${deployment.proxy_port}`;
}
export function gatewayBase(slug) {
  return `${gatewayOrigin()}/ai/${slug}/v1`;
}

// GATEWAY_MODE of this server: standalone, control (a hub) or edge.
export function deploymentMode() {
  return deployment.mode;
}

// Where edges reach this hub (CONTROL_ENDPOINT): this host on GRPC_PORT.
export function hubEndpoint() {
  return `${location.hostname}:${deployment.grpc_port}`;
}

// A page of the documentation site (DOCS_PORT), e.g. docsUrl('hub-and-edge').
export function docsUrl(page) {
  return `${location.protocol}//${location.hostname}:${deployment.docs_port}/${page}`;
}

// Whether this server runs the documentation site (GET /info docs_enabled).
export function docsAvailable() {
  return !!deployment.docs_enabled;
}
