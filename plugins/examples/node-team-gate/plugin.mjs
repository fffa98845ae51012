#!/usr/bin/env node
// plugins/examples/node-team-gate/plugin.mjs: an example plugin in Node,
// proof that the plugin protocol is language-neutral: @grpc/grpc-js serves
// the PluginService of proto/aistudio/v1/plugin.proto (loaded at start with
// @grpc/proto-loader), the same .proto the C SDK is built from.
//
// Hooks pre_auth and post_auth: a request must carry a team header (400
// team_required), of an allowed team when a list is configured (403
// team_not_allowed); a request that passes can get a header set on the
// upstream request (e.g. the team, for the vendor's own usage reports).
//
// Configuration (aistudio.plugins.config):
//   {"header": "x-team",             the header to require (default x-team)
//    "teams": ["red", "blue"],       allowed values ([]: any)
//    "set_header": "x-team",         a header to set upstream (optional) ...
//    "set_value": "..."}             ... to this value (default: the team)
//
// Run by gatewayd (command: the absolute path of this file; Node must be on
// /usr/bin or /usr/local/bin): it finds its directory in AISTUDIO_PLUGIN_DIR,
// listens on plugin.sock there and prints the handshake line. By hand:
// `node plugin.mjs` listens in a new directory under /tmp.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROTO = path.resolve(here, '../../../proto/aistudio/v1/plugin.proto');
const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true });
const v1 = grpc.loadPackageDefinition(def).aistudio.v1;

let config = { header: 'x-team', teams: [], set_header: '', set_value: '' };

function configure(json) {
  const c = JSON.parse(json || '{}');
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error('the configuration is not an object');
  const next = { header: 'x-team', teams: [], set_header: '', set_value: '' };
  if (c.header !== undefined) {
    if (typeof c.header !== 'string' || !/^[a-z0-9-]{1,64}$/.test(c.header)) throw new Error('header: a lower-case header name');
    next.header = c.header;
  }
  if (c.teams !== undefined) {
    if (!Array.isArray(c.teams) || c.teams.some((t) => typeof t !== 'string')) throw new Error('teams: an array of strings');
    next.teams = c.teams;
  }
  if (c.set_header !== undefined) {
    if (typeof c.set_header !== 'string' || !/^[a-z0-9-]{1,64}$/.test(c.set_header)) throw new Error('set_header: a lower-case header name');
    next.set_header = c.set_header;
  }
  if (c.set_value !== undefined) {
    if (typeof c.set_value !== 'string' || /[\x00-\x1f]/.test(c.set_value)) throw new Error('set_value: a string without control characters');
    next.set_value = c.set_value;
  }
  config = next;
}

function handleRequest(req) {
  const team = (req.headers || []).find((h) => h.name === config.header)?.value;
  if (!team) {
    return { action: 'ACTION_BLOCK', status: 400, error_code: 'team_required', error_message: `the ${config.header} header is required` };
  }
  if (config.teams.length > 0 && !config.teams.includes(team)) {
    return { action: 'ACTION_BLOCK', status: 403, error_code: 'team_not_allowed', error_message: `team ${team} may not use this LLM` };
  }
  if (config.set_header) {
    return { action: 'ACTION_MODIFY', set_headers: [{ name: config.set_header, value: config.set_value || team }] };
  }
  return { action: 'ACTION_CONTINUE' };
}

const server = new grpc.Server();
server.addService(v1.PluginService.service, {
  GetManifest(call, cb) {
    cb(null, {
      id: 'com.pg-aistudio.examples.node-team-gate', name: 'Team gate (Node)', version: '1.0.0',
      description: 'requires a team header; tags the upstream request',
      hooks: ['HOOK_PRE_AUTH', 'HOOK_POST_AUTH'],
      capabilities: { needs_network: false, streaming_response: false },
      protocol_version: 1,
    });
  },
  Configure(call, cb) {
    try {
      configure(call.request.config_json);
      cb(null, {});
    } catch (e) {
      cb({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
    }
  },
  HandleRequest(call, cb) {
    cb(null, handleRequest(call.request));
  },
  Health(call, cb) {
    cb(null, { serving: true });
  },
});

const hosted = !!process.env.AISTUDIO_PLUGIN_DIR;
const dir = hosted ? process.env.AISTUDIO_PLUGIN_DIR : fs.mkdtempSync('/tmp/aistudio-plugin.');
const sock = path.join(dir, 'plugin.sock');
server.bindAsync(`unix:${sock}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    process.stderr.write(`team gate: cannot listen on ${sock}: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`AISTUDIO_PLUGIN 1 unix:${sock}\n`);
});

function stop() {
  server.tryShutdown(() => {
    if (!hosted) fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (hosted) {
  // gatewayd keeps our stdin open: its end means gatewayd is gone
  process.stdin.on('end', stop);
  process.stdin.resume();
}
