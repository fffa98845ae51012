// regress/browser/lib/a11y.mjs: accessibility checks run inside the page.
//
//   await contrastProblems(page)   every visible text below WCAG AA contrast
//   await labelledSpans(page)      aria-label on elements without a role
//
// contrastProblems walks every element with text of its own (not hidden,
// not screen-reader-only, not disabled: WCAG exempts inactive controls),
// takes its colour (with the opacity of its ancestors) and the background
// it is painted on (the backgrounds behind it composed from the page down;
// a gradient is checked against each of its colours) and reports those
// below 4.5:1, or 3:1 for large text (24px, or 18.66px bold). Each problem
// reads "<ratio> <selector> "<text>" <colour> on <background>".

export function contrastProblems(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = /rgba?\(([^)]+)\)/.exec(c || '');
      if (!m) return null;
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const over = (top, bottom) => ({
      r: top.r * top.a + bottom.r * (1 - top.a),
      g: top.g * top.a + bottom.g * (1 - top.a),
      b: top.b * top.a + bottom.b * (1 - top.a),
      a: 1,
    });
    const lum = (c) => {
      const f = (v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    const ratio = (x, y) => { const a = lum(x); const b = lum(y); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
    const hex = (c) => `#${[c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
    const gradientColors = (img) => [...img.matchAll(/rgba?\([^)]+\)/g)].map((m) => parse(m[0]));

    // the backgrounds an element is painted on: each a colour (several for a gradient)
    const backgrounds = (el) => {
      const chain = [];
      for (let e = el; e; e = e.parentElement) chain.push(e);
      let bgs = [{ r: 255, g: 255, b: 255, a: 1 }];
      for (const e of chain.reverse()) {
        const cs = getComputedStyle(e);
        const img = cs.backgroundImage;
        if (img && img !== 'none' && /gradient/.test(img)) {
          // each layer of the image; a layer with a transparent stop paints
          // only part of the element (a stripe, a glow) and is left out
          const layers = [];
          let depth = 0;
          let cur = '';
          for (const ch of img) {
            if (ch === '(') depth++;
            if (ch === ')') depth--;
            if (ch === ',' && depth === 0) { layers.push(cur); cur = ''; } else cur += ch;
          }
          layers.push(cur);
          const cols = layers.map((l) => gradientColors(l).filter(Boolean))
            .filter((cs) => cs.length && cs.every((c) => c.a > 0)).flat();
          if (cols.length) bgs = cols.flatMap((c) => bgs.map((b) => over(c, b)));
        }
        const c = parse(cs.backgroundColor);
        if (c && c.a > 0) bgs = bgs.map((b) => over(c, b));
      }
      return bgs;
    };
    const hidden = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.display === 'none' || cs.visibility === 'hidden' || e.getAttribute('aria-hidden') === 'true') return true;
        if (e.matches(':disabled, [aria-disabled="true"], .sr-only')) return true;
      }
      const r = el.getBoundingClientRect();
      return r.width <= 1 || r.height <= 1;
    };
    const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      if (['SCRIPT', 'STYLE', 'svg', 'path', 'OPTION', 'TITLE'].includes(el.tagName)) continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
      if (!own || hidden(el)) continue;
      const cs = getComputedStyle(el);
      const fg = parse(cs.color);
      if (!fg) continue;
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      const need = large ? 3 : 4.5;
      const alpha = fg.a * opacity(el);
      for (const bg of backgrounds(el)) {
        const text = over({ ...fg, a: alpha }, bg);
        const r = ratio(text, bg);
        if (r < need) {
          const sel = `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
          out.push(`${r.toFixed(2)} ${sel} "${own.slice(0, 40)}" ${hex(text)} on ${hex(bg)}`);
          break;
        }
      }
    }
    return [...new Set(out)];
  });
}

// Elements that carry aria-label without a role that takes a name (a plain
// span or div): screen readers ignore the label there.
export function labelledSpans(page) {
  return page.evaluate(() => [...document.querySelectorAll('span[aria-label], div[aria-label], i[aria-label], p[aria-label]')]
    .filter((e) => !e.getAttribute('role'))
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} aria-label="${e.getAttribute('aria-label')}"`));
}
