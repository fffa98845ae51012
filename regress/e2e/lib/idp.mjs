// regress/e2e/lib/idp.mjs: a mock OpenID Connect identity provider of ours
// for the single sign-on tests (node:http on 127.0.0.1, keys from
// node:crypto). It is strict where a real provider is: /authorize checks
// the client, the redirect URI and PKCE S256, /token checks the client's
// authentication (HTTP Basic for a confidential client, client_id alone for
// a public one), the code (once, 60 s), the redirect URI and the PKCE
// verifier, and signs the ID token RS256 with the nonce it was given.
//
//   const idp = await startIdp({ clientId: 'studio', clientSecret: 's3cret',
//                                user: { sub, email, email_verified, name } });
//   idp.issuer                      http://127.0.0.1:PORT/realms/test
//   idp.user = { … }                who /authorize signs in next
//   idp.misbehave = { … }           knobs, all off by default:
//     error: 'access_denied'        /authorize redirects back with this error
//     aud: 'x'                      ID token for another audience
//     expired: true                 ID token expired an hour ago
//     badSignature: true            ID token signature corrupted
//     wrongNonce: true              ID token with another nonce
//     algNone: true                 unsigned ID token (alg "none")
//     wrongIssuer: true             discovery names another issuer
//     discoveryDown: true           discovery answers 503
//     tokenError: 'invalid_grant'   /token refuses with this error
//     noEmail: true                 ID token without email claims
//   idp.rotateKey()                 a new signing key (and kid); the JWK set
//                                   publishes only the new one
//   idp.counts                      { discovery, jwks, authorize, token }
//   idp.tokenRequests               every /token request: { form, basic }
//   idp.issued                      every ID token issued (to check leaks)
//   await idp.close()
import http from 'node:http';
import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { sign as cryptoSign } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { ...jwk, kid: `k-${randomBytes(6).toString('hex')}`, use: 'sig', alg: 'RS256' } };
}

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startIdp(opts = {}) {
  const clientId = opts.clientId ?? 'studio-client';
  const clientSecret = opts.clientSecret ?? null;
  const path = opts.path ?? '/realms/test';
  let key = newKey();
  const codes = new Map();
  const idp = {
    clientId,
    clientSecret,
    issuer: null,
    user: opts.user ?? { sub: 'u-1', email: 'user@example.com', email_verified: true, name: 'Test User' },
    misbehave: {},
    counts: { discovery: 0, jwks: 0, authorize: 0, token: 0 },
    tokenRequests: [],
    authorizeRequests: [],
    issued: [],
    rotateKey() { key = newKey(); return key.jwk.kid; },
    get kid() { return key.jwk.kid; },
  };

  function idToken(grant) {
    const now = Math.floor(Date.now() / 1000);
    const m = idp.misbehave;
    const u = grant.user;
    const claims = {
      iss: idp.issuer,
      sub: u.sub,
      aud: m.aud ?? clientId,
      exp: m.expired ? now - 3600 : now + 300,
      iat: m.expired ? now - 7200 : now,
      nonce: m.wrongNonce ? 'not-the-nonce' : grant.nonce,
      auth_time: now,
    };
    if (!m.noEmail) {
      if (u.email !== undefined) claims.email = u.email;
      if (u.email_verified !== undefined) claims.email_verified = u.email_verified;
    }
    if (u.name !== undefined) claims.name = u.name;
    const header = m.algNone ? { alg: 'none', typ: 'JWT' } : { alg: 'RS256', kid: key.jwk.kid, typ: 'JWT' };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    if (m.algNone) return `${input}.`;
    const sig = cryptoSign('sha256', Buffer.from(input), key.privateKey);
    if (m.badSignature) sig[10] ^= 0x55;
    return `${input}.${b64url(sig)}`;
  }

  function send(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(text);
  }

  function authorize(url, res) {
    idp.counts.authorize++;
    const q = Object.fromEntries(url.searchParams);
    idp.authorizeRequests.push(q);
    if (q.client_id !== clientId) return send(res, 400, 'unknown client_id');
    if (!q.redirect_uri) return send(res, 400, 'redirect_uri missing');
    const back = new URL(q.redirect_uri);
    const reply = (params) => {
      for (const [k, v] of Object.entries(params)) back.searchParams.set(k, v);
      res.writeHead(302, { location: back.toString() });
      res.end();
    };
    if (q.response_type !== 'code') return reply({ error: 'unsupported_response_type', state: q.state ?? '' });
    if (!(q.scope ?? '').split(' ').includes('openid')) return reply({ error: 'invalid_scope', state: q.state ?? '' });
    if (q.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge ?? '')) {
      return reply({ error: 'invalid_request', error_description: 'PKCE S256 required', state: q.state ?? '' });
    }
    if (!q.state || !q.nonce) return send(res, 400, 'state and nonce required');
    if (idp.misbehave.error) {
      return reply({ error: idp.misbehave.error, error_description: 'The user said no', state: q.state });
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      redirectUri: q.redirect_uri, challenge: q.code_challenge, nonce: q.nonce,
      user: { ...idp.user }, expires: Date.now() + 60000,
    });
    return reply({ code, state: q.state });
  }

  function token(req, body, res) {
    idp.counts.token++;
    const form = Object.fromEntries(new URLSearchParams(body));
    const auth = req.headers.authorization ?? '';
    let basic = null;
    if (auth.startsWith('Basic ')) {
      const raw = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const i = raw.indexOf(':');
      basic = { id: decodeURIComponent(raw.slice(0, i)), secret: decodeURIComponent(raw.slice(i + 1)) };
    }
    idp.tokenRequests.push({ form, basic, contentType: req.headers['content-type'] });
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      return send(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
    }
    if (clientSecret !== null) {
      if (!basic || basic.id !== clientId || !safeEqual(basic.secret, clientSecret)) {
        return send(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="idp"' });
      }
    } else if (basic || form.client_id !== clientId || form.client_secret) {
      return send(res, 401, { error: 'invalid_client' });
    }
    if (form.client_id !== undefined && form.client_id !== clientId) return send(res, 401, { error: 'invalid_client' });
    if (form.grant_type !== 'authorization_code') return send(res, 400, { error: 'unsupported_grant_type' });
    if (idp.misbehave.tokenError) return send(res, 400, { error: idp.misbehave.tokenError });
    const grant = codes.get(form.code ?? '');
    codes.delete(form.code ?? '');
    if (!grant || grant.expires < Date.now()) return send(res, 400, { error: 'invalid_grant' });
    if (form.redirect_uri !== grant.redirectUri) return send(res, 400, { error: 'invalid_grant', error_description: 'redirect_uri' });
    const challenge = createHash('sha256').update(form.code_verifier ?? '').digest('base64url');
    if (!form.code_verifier || challenge !== grant.challenge) {
      return send(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    }
    const id = idToken(grant);
    idp.issued.push(id);
    return send(res, 200, {
      access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 300, id_token: id,
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let body = '';
    req.on('data', (d) => { body += d; if (body.length > 65536) req.destroy(); });
    req.on('end', () => {
      const p = url.pathname.startsWith(path) ? url.pathname.slice(path.length) : null;
      if (req.method === 'GET' && p === '/.well-known/openid-configuration') {
        idp.counts.discovery++;
        if (idp.misbehave.discoveryDown) return send(res, 503, { error: 'down' });
        return send(res, 200, {
          issuer: idp.misbehave.wrongIssuer ? `${idp.issuer}/other` : idp.issuer,
          authorization_endpoint: `${idp.issuer}/protocol/openid-connect/auth`,
          token_endpoint: `${idp.issuer}/protocol/openid-connect/token`,
          jwks_uri: `${idp.issuer}/protocol/openid-connect/certs`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
          scopes_supported: ['openid', 'email', 'profile'],
        });
      }
      if (req.method === 'GET' && p === '/protocol/openid-connect/certs') {
        idp.counts.jwks++;
        return send(res, 200, { keys: [key.jwk] });
      }
      if (req.method === 'GET' && p === '/protocol/openid-connect/auth') return authorize(url, res);
      if (req.method === 'POST' && p === '/protocol/openid-connect/token') return token(req, body, res);
      return send(res, 404, { error: 'not_found' });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  idp.port = server.address().port;
  idp.issuer = `http://127.0.0.1:${idp.port}${path}`;
  idp.close = () => new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  return idp;
}
