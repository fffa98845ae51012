// app/router.js: hash routing (#/llms, #/apps/12). The server only ever
// serves "/", so every page is a hash route and reloads keep the page.
import { useEffect, useState } from './deps.js';

export function currentPath() {
  const h = location.hash.replace(/^#/, '');
  const path = h.split('?')[0];
  return path.startsWith('/') ? path : '/';
}

export function currentQuery() {
  const h = location.hash;
  const i = h.indexOf('?');
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : '');
}

export function navigate(path) {
  if (location.hash !== `#${path}`) location.hash = `#${path}`;
}

// The current path, re-rendering on every hash change.
export function useRoute() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const on = () => setPath(currentPath());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return path;
}

// "/apps/:id" against "/apps/12" → { id: '12' }, or null.
export function match(pattern, path) {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return null;
  const params = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}
