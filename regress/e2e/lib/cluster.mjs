// regress/e2e/lib/cluster.mjs: a real PostgreSQL 15 cluster with pg_aistudio
// for one test file (or one benchmark run).
//
//   const pg = await startCluster();
//   pg.dir, pg.port          scratch dir (also the unix socket dir), port
//   pg.keyFile               the master key file (same for the gateway)
//   pg.gatewayUrl            libpq conninfo of the LOGIN role `gw` (member of aistudio_gateway)
//   await pg.sql(q)          psql -Atc as the superuser; returns stdout (trimmed)
//   await pg.json(q)         rows of a SELECT as an array of objects
//   await pg.restart({ downMs }), pg.stop(), pg.start(), pg.kill9(), pg.cleanup()
//   const db = await pg.createDatabase('edge1')   another database of this server
//                            with the extension: { name, gatewayUrl, sql(q), json(q), one(q) }
//                            (hub and edges in tests: one database per process)
//
// The cluster is initialised into a temporary directory (under
// $AISTUDIO_TEST_WORK when regress/run-tests.sh sets it). When running as
// root, PostgreSQL runs as the `postgres` system user (it refuses root): the
// directory and the key file are chown'ed to it and initdb/pg_ctl run through
// `runuser -u postgres --`. It listens on a unix socket in its directory and
// on 127.0.0.1:port. Cleanup always happens: on cleanup(), on process exit or
// SIGINT/SIGTERM, and through a watchdog shell that stops the server and
// removes the directory when the test process dies without running its exit
// handlers (SIGKILL).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, chownSync, rmSync, readFileSync, existsSync, appendFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const PGBIN = process.env.PGBIN || execFileSync('pg_config', ['--bindir']).toString().trim();
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

let pgOwner = null;
function owner() {
  if (!IS_ROOT) return null;
  if (!pgOwner) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    pgOwner = { uid, gid };
  }
  return pgOwner;
}

function asOwner(cmd, args) {
  return IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

// A free TCP port on 127.0.0.1 (bind 0, read it, close).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const live = new Set();
function cleanupAllSync() {
  for (const c of live) c.cleanupSync();
}
process.on('exit', cleanupAllSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanupAllSync();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

function scratchBase() {
  const base = process.env.AISTUDIO_TEST_WORK;
  if (base && existsSync(base)) return base;
  return os.tmpdir();
}

// opts: conf (extra postgresql.conf lines), database (default 'aistudio'),
//       gatewayRole (default 'gw'), prefix
export async function startCluster(opts = {}) {
  const database = opts.database || 'aistudio';
  const role = opts.gatewayRole || 'gw';
  const dir = mkdtempSync(path.join(scratchBase(), opts.prefix || 'e2e-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const keyFile = path.join(dir, 'secret.key');
  const port = await freePort();
  const o = owner();

  writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  if (o) {
    chownSync(dir, o.uid, o.gid);
    chownSync(keyFile, o.uid, o.gid);
  }

  const run = async (cmd, args, { allowFail = false, timeout = 120000 } = {}) => {
    const [c, a] = asOwner(cmd, args);
    try {
      return await execFileP(c, a, { timeout, maxBuffer: 64 * 1024 * 1024 });
    } catch (e) {
      if (allowFail) return e;
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '';
      throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}\n${tail}`);
    }
  };

  await run(path.join(PGBIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${dir}'`,
    `port = ${port}`,
    `shared_preload_libraries = 'pg_aistudio'`,
    `pg_aistudio.secret_key_file = '${keyFile}'`,
    `pg_aistudio.worker_database = '${database}'`,
    `pg_aistudio.rollup_interval = 0`,
    `fsync = off`,
    `synchronous_commit = off`,
    `full_page_writes = off`,
    `max_connections = 200`,
    `shared_buffers = 128MB`,
    `log_min_messages = warning`,
    ...(opts.conf || []),
  ].join('\n');
  // postgresql.conf is owned by postgres; append as ourselves (root can)
  appendFileSync(path.join(data, 'postgresql.conf'), `\n# e2e\n${conf}\n`);

  const cluster = {
    dir, data, port, keyFile, database, role, log,
    gatewayUrl: `host=${dir} port=${port} dbname=${database} user=${role}`,
    superUrl: `host=${dir} port=${port} dbname=${database} user=postgres`,
    running: false,
    watchdog: null,

    async start() {
      await run(path.join(PGBIN, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', 'start']);
      this.running = true;
    },
    async stop(mode = 'fast') {
      await run(path.join(PGBIN, 'pg_ctl'), ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'], { allowFail: true });
      this.running = false;
    },
    // Stop, stay down downMs, start again.
    async restart({ downMs = 0, mode = 'fast' } = {}) {
      await this.stop(mode);
      if (downMs > 0) await sleep(downMs);
      await this.start();
    },
    // kill -9 the postmaster (children exit on postmaster death), wait until
    // they are gone.
    async kill9() {
      const pidFile = path.join(data, 'postmaster.pid');
      if (!existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      let kids = [];
      try {
        kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().split(/\s+/).filter(Boolean).map(Number);
      } catch { /* none */ }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
      const end = Date.now() + 15000;
      while (Date.now() < end && [pid, ...kids].some(alive)) await sleep(20);
      this.running = false;
    },
    // psql -Atc as the superuser; returns stdout without the final newline.
    async sql(query, { db = database, timeout = 60000 } = {}) {
      try {
        const { stdout } = await execFileP(path.join(PGBIN, 'psql'),
          ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', db, '-c', query],
          { timeout, maxBuffer: 256 * 1024 * 1024 });
        return stdout.replace(/\n$/, '');
      } catch (e) {
        throw new Error(`psql failed: ${(e.stderr || e.message).trim()}\n  query: ${query.slice(0, 500)}`);
      }
    },
    // Rows of a query as objects (numerics come back as JSON numbers or strings as PostgreSQL renders them).
    async json(query) {
      const out = await this.sql(`SELECT coalesce(json_agg(t), '[]'::json) FROM (${query}) t`);
      return JSON.parse(out);
    },
    async one(query) {
      const rows = await this.json(query);
      return rows[0];
    },
    serverLog() {
      try { return readFileSync(log, 'utf8'); } catch { return ''; }
    },
    // Another database of this server with the extension; the gateway role
    // may connect to it. Its helpers run as the superuser in that database.
    async createDatabase(name) {
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      await this.sql(`CREATE DATABASE ${name}`, { db: 'postgres' });
      await this.sql('CREATE EXTENSION pg_aistudio', { db: name });
      const self = this;
      return {
        name,
        gatewayUrl: `host=${dir} port=${port} dbname=${name} user=${role}`,
        sql: (q, o = {}) => self.sql(q, { ...o, db: name }),
        async json(q) {
          const out = await self.sql(`SELECT coalesce(json_agg(t), '[]'::json) FROM (${q}) t`, { db: name });
          return JSON.parse(out);
        },
        async one(q) { return (await this.json(q))[0]; },
      };
    },
    cleanupSync() {
      if (!live.has(this)) return;
      live.delete(this);
      try {
        const [c, a] = asOwner(path.join(PGBIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
        execFileSync(c, a, { stdio: 'ignore', timeout: 40000 });
      } catch { /* not running */ }
      if (this.watchdog) { try { process.kill(this.watchdog.pid, 'SIGKILL'); } catch { /* gone */ } }
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
    async cleanup() { this.cleanupSync(); },
  };
  live.add(cluster);

  // Watchdog: when this process dies (even by SIGKILL), stop the server and
  // remove the directory. It polls the parent once a second.
  const pgctl = asOwner(path.join(PGBIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
  const stopCmd = [pgctl[0], ...pgctl[1]].map((s) => `'${s}'`).join(' ');
  cluster.watchdog = spawn('bash', ['-c',
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopCmd} >/dev/null 2>&1; ` +
    (process.env.KEEP_TEST_DIRS ? 'true' : `rm -rf '${dir}'`)], { detached: true, stdio: 'ignore' });
  cluster.watchdog.unref();

  await cluster.start();
  await cluster.sql(`CREATE DATABASE ${database}`, { db: 'postgres' });
  await cluster.sql('CREATE EXTENSION pg_aistudio');
  await cluster.sql(`CREATE ROLE ${role} LOGIN; GRANT aistudio_gateway TO ${role}`);
  return cluster;
}

// SQL literal quoting for test data (the tests build their setup SQL).
export function lit(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `ARRAY[${v.map(lit).join(',')}]::text[]`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

// Make a directory owned by the cluster's user (e.g. for a spool when the
// gateway runs as root it does not matter; kept for symmetry).
export function mkScratch(prefix) {
  const d = mkdtempSync(path.join(scratchBase(), prefix));
  mkdirSync(d, { recursive: true });
  return d;
}
