// app/lookups.js: the value lists the UI offers and the labels it shows
// for them, from the API rather than copied into pages:
//   vendors   GET /api/v1/vendors (aistudio.vendors: display name, wire
//             format, whether a key is needed, default endpoint and model)
//   roles, sso_roles, filter_stages, filter_types, plugin_hooks
//             GET /api/v1/lookups (aistudio.ui_lookups(): read from the
//             extension's CHECK constraints; roles carry their rank)
// Loaded once per session — main.js waits for loadLookups() after sign-in
// and calls clearLookups() at sign-out — and then read synchronously, so
// chips and pickers render without a request of their own. Until loaded
// (or for a value the lists do not know) names stand for their labels.
import { api } from './api.js';

const EMPTY = { vendors: [], roles: [], sso_roles: [], filter_stages: [], filter_types: [], plugin_hooks: [] };

let pending = null; // the Promise of this session's lookups
let current = EMPTY;

// Fetches the lists (once per session; a failed load is retried on the next call).
export function loadLookups() {
  if (!pending) {
    pending = Promise.all([api.get('/vendors'), api.get('/lookups')]).then(([v, l]) => {
      current = { ...EMPTY, ...l, vendors: v.data };
      return current;
    }, (e) => {
      pending = null;
      throw e;
    });
  }
  return pending;
}

export function clearLookups() {
  pending = null;
  current = EMPTY;
}

// ---- lists as [value, label] options ---------------------------------------

// list: 'vendors' | 'roles' | 'sso_roles' | 'filter_stages' | 'filter_types' | 'plugin_hooks'
export function options(list) {
  return current[list].map((x) => [x.name, x.label || x.display_name || x.name]);
}

export function labelOf(list, name) {
  const x = current[list].find((i) => i.name === name);
  return x ? x.label || x.display_name || name : name;
}

// ---- vendors ---------------------------------------------------------------

export function vendors() { return current.vendors; }
export function vendor(name) { return current.vendors.find((v) => v.name === name) || null; }
export function vendorName(name) { return name ? labelOf('vendors', name) : '—'; }

// ---- roles and ranks -------------------------------------------------------

// every role, the highest rank first
export function roles() { return current.roles; }
export function roleName(name) { return labelOf('roles', name); }
export function rankOf(name) {
  const r = current.roles.find((x) => x.name === name);
  return r ? r.rank : 0;
}
// Does `role` rank at least as high as `min`? (The database decides; the UI
// only hides what a role cannot do.)
export function atLeast(role, min) { return rankOf(role) > 0 && rankOf(role) >= rankOf(min); }
export function isAdmin(me) { return !!me && atLeast(me.role, 'admin'); }
