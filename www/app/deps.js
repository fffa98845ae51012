// app/deps.js: the one place that names the vendored libraries (copied into
// vendor/ by `make -C www`; versions as in package-lock.json — `make` checks).
// Everything else imports from here.
import { h } from '../vendor/preact@11.2.0/preact.js';
import htm from '../vendor/htm@3.1.1/htm.js';

export { h, render, Fragment, createContext } from '../vendor/preact@11.2.0/preact.js';
export {
  useState, useEffect, useRef, useMemo, useCallback, useContext, useLayoutEffect,
} from '../vendor/preact@11.2.0/hooks.js';
export { default as uPlot } from '../vendor/uplot@1.6.32/uPlot.esm.js';

// html`<div class=${cls}>…</div>`: JSX-like templates without a build step.
export const html = htm.bind(h);
