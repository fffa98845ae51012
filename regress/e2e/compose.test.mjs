// regress/e2e/compose.test.mjs: docker/compose.yml cannot run here (no Docker
// engine), so it is checked statically against what it starts: every
// setting a gatewayd service sets is one gatewayd knows (`gatewayd --help`)
// and documents (docs/configuration.md), each gatewayd service's settings
// pass `gatewayd --check-config` with sample values, every setting of a
// database service is one docker/pg-entrypoint.sh reads, every ${VAR} is
// in docker/.env.example and in docs/hub-and-edge.md, and the topology is
// the documented one: a hub and two edges in two namespaces, each with its
// own database, the edges pointing at the hub's GRPC_PORT, no master key on
// an edge's side.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, GATEWAYD_BIN, buildGatewayd } from './lib/gatewayd.mjs';

const read = (f) => readFileSync(path.join(ROOT, f), 'utf8');

// The subset of YAML compose.yml is written in: block mappings and block
// lists of scalars, comments, quoted or plain scalars. Anything else throws,
// so the file stays checkable.
function parseYaml(text) {
  const lines = text.split('\n').map((raw, i) => ({ raw, no: i + 1 }))
    .filter(({ raw }) => raw.trim() !== '' && !raw.trim().startsWith('#'))
    .map(({ raw, no }) => ({ indent: raw.length - raw.trimStart().length, text: raw.trim(), no }));
  const scalar = (s) => {
    if (/^".*"$/.test(s) || /^'.*'$/.test(s)) return s.slice(1, -1);
    if (/[{}[\]]/.test(s[0] || '')) throw new Error(`flow style is not used in compose.yml: ${s}`);
    return s;
  };
  let i = 0;
  function block(indent) {
    if (i < lines.length && lines[i].text.startsWith('- ')) {
      const out = [];
      while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith('- ')) out.push(scalar(lines[i++].text.slice(2)));
      return out;
    }
    const out = {};
    while (i < lines.length && lines[i].indent === indent) {
      const { text, no } = lines[i];
      const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(text);
      if (!m) throw new Error(`compose.yml line ${no}: not "key: value": ${text}`);
      i++;
      if (m[2] !== undefined && m[2] !== '') out[m[1]] = scalar(m[2]);
      else if (i < lines.length && lines[i].indent > indent) out[m[1]] = block(lines[i].indent);
      else out[m[1]] = null;
    }
    return out;
  }
  const doc = block(0);
  if (i !== lines.length) throw new Error(`compose.yml line ${lines[i].no}: unexpected indentation`);
  return doc;
}

const compose = parseYaml(read('docker/compose.yml'));
const services = compose.services;
const dockerfile = (s) => s.build && s.build.dockerfile;
const gatewayds = Object.entries(services).filter(([, s]) => dockerfile(s) === 'docker/Dockerfile.gatewayd');
const databases = Object.entries(services).filter(([, s]) => dockerfile(s) === 'docker/Dockerfile.pg');
// ${VAR}, ${VAR:-default}, ${VAR:?message}
const VAR_RE = /\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}/g;
const varsIn = (s) => [...String(s).matchAll(VAR_RE)].map((m) => m[1]);

function gatewaydSettings() {
  if (!existsSync(GATEWAYD_BIN)) buildGatewayd();
  const help = execFileSync(GATEWAYD_BIN, ['--help'], { encoding: 'utf8' });
  return new Set([...help.matchAll(/^ {2}([A-Z][A-Z0-9_]+) +default/gm)].map((m) => m[1]));
}

// A sample value for a ${VAR} of compose.yml (what docker/.env would hold).
function sample(name) {
  if (name === 'AISTUDIO_SECRET_KEY') return 'ab'.repeat(32);
  if (name.endsWith('_TOKEN')) return `aie_${'A'.repeat(43)}`;
  if (name.endsWith('_EMAIL')) return 'admin@example.com';
  return 'sample-password';
}
const substitute = (v) => String(v).replace(VAR_RE, (_, name) => sample(name));

describe('docker/compose.yml', () => {
  it('is a hub and two edges in two namespaces, each with its own database', () => {
    const modes = Object.fromEntries(gatewayds.map(([n, s]) => [n, s.environment.GATEWAY_MODE]));
    const hubs = Object.keys(modes).filter((n) => modes[n] === 'control');
    const edges = Object.keys(modes).filter((n) => modes[n] === 'edge');
    assert.equal(hubs.length, 1, JSON.stringify(modes));
    assert.equal(edges.length, 2, JSON.stringify(modes));
    const hub = services[hubs[0]];
    const grpcPort = hub.environment.GRPC_PORT || '50051';
    assert.ok(hub.ports.some((p) => p === `${grpcPort}:${grpcPort}`), 'the hub publishes GRPC_PORT');
    const namespaces = edges.map((n) => services[n].environment.EDGE_NAMESPACE);
    assert.equal(new Set(namespaces).size, 2, `two namespaces: ${namespaces}`);
    assert.ok(namespaces.every((ns) => /^[a-z0-9][a-z0-9_-]{0,62}$/.test(ns)), 'valid namespace names');
    const ids = edges.map((n) => services[n].environment.EDGE_ID);
    assert.equal(new Set(ids).size, 2, `two edge ids: ${ids}`);
    const dbHost = (s) => /host=([^ ]+)/.exec(s.environment.DATABASE_URL)[1];
    const dbs = gatewayds.map(([, s]) => dbHost(s));
    assert.equal(new Set(dbs).size, 3, `one database per site: ${dbs}`);
    for (const db of dbs) assert.ok(databases.some(([n]) => n === db), `${db} is a database service`);
    for (const n of edges) {
      const e = services[n].environment;
      assert.equal(e.CONTROL_ENDPOINT, `${hubs[0]}:${grpcPort}`, `${n} connects to the hub's GRPC_PORT`);
      assert.ok(e.EDGE_TOKEN, `${n} presents a token of its own`);
      assert.ok(!('AISTUDIO_SECRET_KEY' in e) && !('AISTUDIO_SECRET_KEY_FILE' in e), `${n} holds no master key`);
      assert.ok(!('AISTUDIO_SECRET_KEY' in services[dbHost(services[n])].environment), `${n}'s database holds no master key`);
      assert.ok(services[n].depends_on.includes(hubs[0]), `${n} starts after the hub`);
    }
    assert.deepEqual(varsIn(hub.environment.AISTUDIO_SECRET_KEY), ['AISTUDIO_SECRET_KEY']);
    assert.deepEqual(varsIn(services[dbHost(hub)].environment.AISTUDIO_SECRET_KEY), ['AISTUDIO_SECRET_KEY'],
      'the hub and its database share the master key');
    for (const [n, s] of gatewayds) {
      assert.equal(s.environment.LISTEN_HOST, '0.0.0.0', `${n} listens beyond its container`);
      const published = (s.ports || []).map((p) => p.split(':')[1]);
      const proxy = s.environment.PROXY_PORT || '9090';
      assert.ok(published.includes(proxy), `${n} publishes its PROXY_PORT`);
    }
    const host = gatewayds.flatMap(([, s]) => (s.ports || []).map((p) => p.split(':')[0]));
    assert.equal(new Set(host).size, host.length, `no host port published twice: ${host}`);
    for (const vol of Object.values(services).flatMap((s) => s.volumes || [])) {
      assert.ok(vol.split(':')[0] in compose.volumes, `named volume ${vol} is declared`);
    }
  });

  it('sets only settings gatewayd knows and documents, and each gatewayd service passes --check-config', () => {
    const known = gatewaydSettings();
    const documented = new Set([...read('docs/configuration.md').matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    for (const [n, s] of gatewayds) {
      for (const k of Object.keys(s.environment)) {
        assert.ok(known.has(k), `${n}: ${k} is not a gatewayd setting (gatewayd --help)`);
        assert.ok(documented.has(k), `${n}: ${k} is not in docs/configuration.md`);
      }
      const env = { PATH: process.env.PATH };
      for (const [k, v] of Object.entries(s.environment)) env[k] = substitute(v);
      const r = spawnSync(GATEWAYD_BIN, ['--check-config'], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, `${n}: gatewayd --check-config: ${r.stderr}${r.stdout.slice(-500)}`);
      assert.match(r.stdout, new RegExp(`^GATEWAY_MODE=${s.environment.GATEWAY_MODE}$`, 'm'));
      assert.doesNotMatch(r.stdout, /sample-password|aie_A{43}|(ab){32}/, `${n}: --check-config hides secrets`);
    }
  });

  it('sets only what docker/pg-entrypoint.sh reads on the databases', () => {
    const entry = read('docker/pg-entrypoint.sh');
    const reads = new Set([...entry.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
    for (const [n, s] of databases) {
      for (const k of Object.keys(s.environment)) {
        // AISTUDIO_SECRET_KEY is read by the extension from the server's environment
        if (k === 'AISTUDIO_SECRET_KEY') { assert.match(entry, /AISTUDIO_SECRET_KEY/); continue; }
        assert.ok(reads.has(k), `${n}: ${k} is not read by docker/pg-entrypoint.sh`);
      }
      assert.ok('POSTGRES_PASSWORD' in s.environment && 'GATEWAY_DB_PASSWORD' in s.environment, `${n}: the passwords it requires`);
    }
    assert.ok(read('docker/Dockerfile.pg').includes('pg-entrypoint.sh'));
    assert.ok(existsSync(path.join(ROOT, 'docker', 'Dockerfile.gatewayd')));
  });

  it('takes every value from docker/.env, and docker/.env.example and docs/hub-and-edge.md name each', () => {
    const vars = new Set(Object.values(services).flatMap((s) => Object.values(s.environment || {}).flatMap(varsIn)));
    assert.ok(vars.size >= 8, [...vars].join(' '));
    const example = read('docker/.env.example');
    const guide = read('docs/hub-and-edge.md');
    for (const v of vars) {
      assert.match(example, new RegExp(`^${v}=`, 'm'), `${v} in docker/.env.example`);
      assert.ok(guide.includes(v), `${v} in docs/hub-and-edge.md`);
    }
    // no value in the example file is a secret: every secret is left empty
    for (const line of example.split('\n').filter((l) => /^[A-Z_]+=/.test(l))) {
      const [k, v] = line.split(/=(.*)/);
      if (/PASSWORD|TOKEN|KEY/.test(k)) assert.equal(v, '', `${k} is empty in docker/.env.example`);
    }
    // no literal secret in compose.yml
    for (const [n, s] of Object.entries(services)) {
      for (const [k, v] of Object.entries(s.environment || {})) {
        if (/PASSWORD|TOKEN|SECRET_KEY/.test(k)) assert.ok(varsIn(v).length > 0, `${n}: ${k} comes from docker/.env`);
      }
    }
    // the guide uses the services' ids and namespaces
    for (const [, s] of gatewayds.filter(([, x]) => x.environment.GATEWAY_MODE === 'edge')) {
      assert.ok(guide.includes(s.environment.EDGE_ID), `${s.environment.EDGE_ID} in docs/hub-and-edge.md`);
    }
    assert.ok(guide.includes('docker/compose.yml'));
  });
});
