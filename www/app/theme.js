// app/theme.js: the light and dark themes. The page follows the system's
// prefers-color-scheme (and its changes) until the user picks the other
// theme with the topbar's button; that choice is kept in localStorage
// (aistudio.theme) and dropped again when it matches the system, so a user
// who switches back follows the system once more. The theme is the
// data-theme attribute of <html>; app.css holds the colours of both.
import { html, useState, useEffect } from './deps.js';
import { Icon } from './icons.js';

const KEY = 'aistudio.theme';
const listeners = new Set();
const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

const systemTheme = () => (media && media.matches ? 'dark' : 'light');
function stored() {
  try { const t = localStorage.getItem(KEY); return t === 'dark' || t === 'light' ? t : null; } catch { return null; }
}

export function currentTheme() {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

function apply() {
  const t = stored() || systemTheme();
  document.documentElement.dataset.theme = t;
  for (const fn of listeners) fn(t);
}

// Called once by main.js before the first render.
export function initTheme() {
  apply();
  if (media) media.addEventListener('change', apply);
}

export function setTheme(t) {
  let kept = true;
  try {
    if (t === systemTheme()) localStorage.removeItem(KEY); else localStorage.setItem(KEY, t);
  } catch { kept = false; }
  if (kept) { apply(); return; }
  document.documentElement.dataset.theme = t; // no storage: this page only
  for (const fn of listeners) fn(t);
}

// The current theme, re-rendering on a change (charts redraw with it).
export function useTheme() {
  const [t, setT] = useState(currentTheme);
  useEffect(() => { listeners.add(setT); return () => listeners.delete(setT); }, []);
  return t;
}

// A CSS custom property of the current theme (canvas colours).
export function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function ThemeToggle() {
  const t = useTheme();
  const next = t === 'dark' ? 'light' : 'dark';
  return html`<button type="button" class="icon-btn" data-testid="theme-toggle" aria-pressed=${t === 'dark' ? 'true' : 'false'}
    aria-label="Dark theme" title=${`Use the ${next} theme`} onClick=${() => setTheme(next)}>
    <${Icon} name=${t === 'dark' ? 'sun' : 'moon'} /></button>`;
}
