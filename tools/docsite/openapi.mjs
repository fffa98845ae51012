// tools/docsite/openapi.mjs: docs/openapi.json (OpenAPI 3.0/3.1) as the
// body of the REST API reference page, at build time.
//
// The page lists every operation (path + method, in document order) with
// its summary, description (Markdown, rendered like the documents),
// parameters (path-level and operation-level, local $refs followed),
// request body schema and responses, then the named schemas of
// components.schemas. Schemas are shown as nested property lists down to a
// fixed depth; a $ref to a named schema becomes a link to its entry instead
// of being expanded, so recursive schemas cannot loop. Anything unexpected in
// the document (a missing field, a wrong type) is skipped; text that is not
// JSON, or a document that is not an object, is a DocsError.
import { DocsError, escapeHtml as esc, inlineHtml } from './markdown.mjs';

const SCHEMA_DEPTH = 6; // nested schema levels shown
const REF_HOPS = 8; // $ref -> $ref chains followed
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const LIMITS = ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern'];
const SCHEMA_REF = '#/components/schemas/';

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (o, k) => (isObj(o) && typeof o[k] === 'string' ? o[k] : null);
const obj = (o, k) => (isObj(o) && isObj(o[k]) ? o[k] : null);
const has = (o, k) => isObj(o) && Object.hasOwn(o, k);

// An id: prefix + the parts with every run of characters other than
// [A-Za-z0-9_] turned into one '-'.
function anchorId(prefix, ...parts) {
  let out = prefix;
  let dash = false;
  for (const p of parts) {
    for (const c of p ?? '') {
      if (/[A-Za-z0-9_]/.test(c)) {
        if (dash && !out.endsWith('-')) out += '-';
        out += c;
        dash = false;
      } else {
        dash = true;
      }
    }
    dash = true;
  }
  return out;
}

// text: the JSON; renderMarkdown(texts) -> HTML fragments, one per text.
// Returns { title, body }.
export function renderOpenapi(text, renderMarkdown) {
  let root;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new DocsError(`docs/openapi.json is not valid JSON: ${e.message}`);
  }
  if (!isObj(root)) throw new DocsError('docs/openapi.json: the document is not a JSON object');

  // The output: strings, and Markdown texts rendered together at the end.
  const out = [];
  const put = (s) => out.push(s);
  const md = (text, inline) => {
    if (typeof text === 'string' && text !== '') out.push({ md: text, inline });
  };

  // a local JSON pointer ("#/components/schemas/App")
  const pointer = (ref) => {
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return null;
    let cur = root;
    for (const raw of ref.slice(2).split('/')) {
      const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(cur)) {
        if (!/^[0-9]+$/.test(seg)) return null;
        cur = cur[Number(seg)];
      } else if (isObj(cur) && Object.hasOwn(cur, seg)) {
        cur = cur[seg];
      } else {
        return null;
      }
      if (cur === undefined) return null;
    }
    return cur;
  };
  // an object with a local $ref is replaced by its target (a few hops)
  const deref = (n) => {
    for (let hops = 0; n != null && hops < REF_HOPS; hops++) {
      const ref = str(n, '$ref');
      if (ref === null) return n;
      n = pointer(ref);
    }
    return n != null && str(n, '$ref') === null ? n : null;
  };

  const scalar = (v) => {
    if (typeof v === 'string') return `<code>&quot;${esc(v)}&quot;</code>`;
    if (Array.isArray(v)) return '<code>[…]</code>';
    if (isObj(v)) return '<code>{…}</code>';
    return `<code>${esc(String(v))}</code>`;
  };

  // the one-line summary: type (or a link to a named schema), format, enum,
  // default, constraints
  const schemaLine = (s, depth) => {
    if (!isObj(s)) {
      put('<span class="type">any</span>');
      return;
    }
    const ref = str(s, '$ref');
    if (ref !== null) {
      const name = ref.slice(SCHEMA_REF.length);
      if (ref.startsWith(SCHEMA_REF) && !name.includes('/')) {
        put(`<a href="#${esc(anchorId('schema-', name))}"><code>${esc(name)}</code></a>`);
      } else {
        const t = deref(s);
        if (t !== null && depth < SCHEMA_DEPTH) schemaLine(t, depth + 1);
        else put(`<code>${esc(ref)}</code>`);
      }
      return;
    }
    const type = s.type;
    const items = obj(s, 'items');
    put('<span class="type">');
    if (typeof type === 'string') put(esc(type));
    else if (Array.isArray(type)) put(type.filter((t) => typeof t === 'string').map(esc).join(' | ')); // 3.1
    else if (has(s, 'properties')) put('object');
    else if (has(s, 'oneOf')) put('one of');
    else if (has(s, 'anyOf')) put('any of');
    else if (has(s, 'allOf')) put('all of');
    else put(items ? 'array' : 'any');
    if (str(s, 'format') !== null) put(` (${esc(s.format)})`);
    if (s.nullable === true) put(' | null');
    put('</span>');
    if (items) {
      put(' of ');
      if (depth < SCHEMA_DEPTH) schemaLine(items, depth + 1);
      else put('…');
    }
    if (Array.isArray(s.enum)) put(` — one of ${s.enum.map(scalar).join(', ')}`);
    if (has(s, 'default')) put(` — default ${scalar(s.default)}`);
    for (const k of LIMITS) {
      if (has(s, k) && !(typeof s[k] === 'object' && s[k] !== null)) put(` <span class="type">${k}</span> ${scalar(s[k])}`);
    }
    if (s.readOnly === true) put(' <span class="type">read-only</span>');
    if (s.writeOnly === true) put(' <span class="type">write-only</span>');
    if (s.deprecated === true) put(' <span class="deprecated">deprecated</span>');
  };

  const isRequired = (s, name) => Array.isArray(s.required) && s.required.includes(name);

  // one list entry: [name] line [required] — description, then the body
  const schemaItem = (name, required, s, depth) => {
    put('<li>');
    if (name !== null) put(`<code>${esc(name)}</code> `);
    schemaLine(s, depth);
    if (required) put('<span class="req">required</span>');
    if (str(s, 'description') !== null) {
      put(' — ');
      md(s.description, true);
    }
    schemaBody(s, depth);
    put('</li>\n');
  };

  // nested detail: properties, composite members, items' properties,
  // additionalProperties; named $refs are links, not expanded
  const schemaBody = (s, depth) => {
    if (!isObj(s) || has(s, '$ref')) return;
    if (depth >= SCHEMA_DEPTH) {
      if (has(s, 'properties')) put(' …');
      return;
    }
    const props = obj(s, 'properties');
    if (props && Object.keys(props).length > 0) {
      put('<ul class="schema">\n');
      for (const [k, p] of Object.entries(props)) schemaItem(k, isRequired(s, k), p, depth + 1);
      put('</ul>\n');
    }
    for (const [k, label] of [['allOf', 'all of'], ['oneOf', 'one of'], ['anyOf', 'any of']]) {
      if (!Array.isArray(s[k]) || s[k].length === 0) continue;
      if (has(s, 'type') || props) put(`<div class="type">${label}</div>`);
      put('<ul class="schema">\n');
      for (const m of s[k]) schemaItem(null, false, m, depth + 1);
      put('</ul>\n');
    }
    if (obj(s, 'items')) schemaBody(s.items, depth + 1);
    if (obj(s, 'additionalProperties')) {
      put('<ul class="schema">\n');
      schemaItem('*', false, s.additionalProperties, depth + 1);
      put('</ul>\n');
    }
  };

  // a content map (requestBody.content, response.content)
  const content = (c) => {
    if (!isObj(c)) return;
    for (const [type, mt] of Object.entries(c)) {
      const schema = obj(mt, 'schema');
      put(`<div class="content"><code>${esc(type)}</code>`);
      if (schema) {
        put(' ');
        schemaLine(schema, 0);
        if (str(schema, 'description') !== null) {
          put(' — ');
          md(schema.description, true);
        }
        schemaBody(schema, 0);
      }
      put('</div>\n');
    }
  };

  const params = (pathParams, opParams) => {
    let any = false;
    for (const list of [pathParams, opParams]) {
      if (!Array.isArray(list)) continue;
      for (const raw of list) {
        const p = deref(raw);
        if (!isObj(p)) continue;
        if (!any) {
          put('<h3>Parameters</h3>\n<div class="table-wrap"><table>\n<thead><tr><th>name</th>'
            + '<th>in</th><th>type</th><th>required</th><th>description</th></tr></thead>\n<tbody>\n');
        }
        any = true;
        put(`<tr><td><code>${esc(str(p, 'name') ?? '?')}</code></td><td>${esc(str(p, 'in') ?? '')}</td><td>`);
        if (obj(p, 'schema')) schemaLine(p.schema, SCHEMA_DEPTH - 2);
        put(`</td><td>${p.required === true ? 'yes' : 'no'}</td><td>`);
        md(str(p, 'description'), true);
        put('</td></tr>\n');
      }
    }
    if (any) put('</tbody>\n</table></div>\n');
  };

  const security = (sec) => {
    if (!Array.isArray(sec)) return;
    put('<p><span class="type">authentication:</span> ');
    if (sec.length === 0) put('none');
    put(sec.map((alt) => {
      if (!isObj(alt)) return '';
      const keys = Object.keys(alt);
      return keys.length === 0 ? 'none' : keys.map((k) => `<code>${esc(k)}</code>`).join(' + ');
    }).join(' or '));
    put('</p>\n');
  };

  const operation = (path, item, method, op) => {
    const body = deref(obj(op, 'requestBody'));
    const responses = obj(op, 'responses');
    put(`<section class="op" id="${esc(anchorId('op-', method, path))}">\n`);
    put(`<h2><span class="method ${method}">${method}</span> <code>${esc(path)}</code>`);
    if (op.deprecated === true) put(' <span class="deprecated">deprecated</span>');
    put('</h2>\n');
    if (str(op, 'summary') !== null) put(`<p><strong>${esc(op.summary)}</strong></p>\n`);
    md(str(op, 'description'), false);
    if (Array.isArray(op.tags) && op.tags.length > 0) {
      put(`<p><span class="type">tags:</span> ${op.tags.filter((t) => typeof t === 'string').map(esc).join(', ')}</p>\n`);
    }
    security(has(op, 'security') ? op.security : root.security);
    params(item.parameters, op.parameters);
    if (isObj(body)) {
      put('<h3>Request body</h3>\n');
      if (body.required === true) put('<p><span class="req">required</span></p>\n');
      md(str(body, 'description'), false);
      content(obj(body, 'content'));
    }
    if (responses && Object.keys(responses).length > 0) {
      put('<h3>Responses</h3>\n<dl class="responses">\n');
      for (const [code, raw] of Object.entries(responses)) {
        const r = deref(raw);
        put(`<dt><code>${esc(code)}</code> `);
        md(str(r, 'description'), true);
        put('</dt>\n<dd>');
        content(obj(r, 'content'));
        put('</dd>\n');
      }
      put('</dl>\n');
    }
    put('</section>\n');
  };

  const operations = (item) => (isObj(item) ? Object.entries(item).filter(([k, v]) => METHODS.includes(k) && isObj(v)) : []);

  const info = obj(root, 'info');
  const t = str(info, 'title');
  const title = t !== null && t !== '' ? t : 'REST API reference';
  put(`<h1 id="top">${esc(title)}`);
  if (str(info, 'version') !== null) put(` <span class="type">${esc(info.version)}</span>`);
  put('</h1>\n');
  md(str(info, 'description'), false);
  put('<p>The machine-readable document: <a href="/openapi.json"><code>openapi.json</code></a>');
  if (str(root, 'openapi') !== null) put(` (OpenAPI ${esc(root.openapi)})`);
  put('.</p>\n');
  if (Array.isArray(root.servers) && root.servers.length > 0) {
    put('<p><span class="type">servers:</span> ');
    for (const s of root.servers) if (str(s, 'url') !== null) put(`<code>${esc(s.url)}</code> `);
    put('</p>\n');
  }
  const paths = obj(root, 'paths');
  if (!paths || Object.keys(paths).length === 0) {
    put('<p class="note">The document describes no paths.</p>\n');
  } else {
    put('<h2 id="endpoints">Endpoints</h2>\n<ul class="toc">\n');
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of operations(item)) {
        put(`<li><a href="#${esc(anchorId('op-', method, path))}"><span class="method ${method}">${method}</span> `
          + `<code>${esc(path)}</code></a>${str(op, 'summary') !== null ? ` ${esc(op.summary)}` : ''}</li>\n`);
      }
    }
    put('</ul>\n');
    for (const [path, raw] of Object.entries(paths)) {
      const item = deref(raw);
      for (const [method, op] of operations(item)) operation(path, item, method, op);
    }
  }
  const schemas = obj(obj(root, 'components'), 'schemas');
  if (schemas && Object.keys(schemas).length > 0) {
    put('<h2 id="schemas">Schemas</h2>\n');
    for (const [name, s] of Object.entries(schemas)) {
      put(`<section class="op" id="${esc(anchorId('schema-', name))}">\n<h2><code>${esc(name)}</code></h2>\n`);
      md(str(s, 'description'), false);
      put('<p>');
      schemaLine(s, 0);
      put('</p>\n');
      schemaBody(s, 0);
      put('</section>\n');
    }
  }

  const texts = out.filter((p) => typeof p !== 'string');
  const html = renderMarkdown(texts.map((p) => p.md));
  let i = 0;
  const body = out.map((p) => {
    if (typeof p === 'string') return p;
    const h = html[i++];
    return p.inline ? inlineHtml(h) : `${h}\n`;
  }).join('');
  return { title, body };
}
