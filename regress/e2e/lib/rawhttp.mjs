// regress/e2e/lib/rawhttp.mjs: a raw HTTP/1.1 client for protocol tests.
// It sends exact bytes on one TCP connection (no normalisation of headers,
// framing or the request target, unlike fetch), then reads until the server
// closes the connection or a bound passes, and splits what came back into
// responses (framed by Content-Length or chunked transfer coding).
//
//   const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 1500 });
//   r.responses   [{ status, reason, headers: {lower-case name: value}, body: Buffer, text }]
//   r.closed      'eof' (the server closed), 'reset' (RST) or 'open' (still open after the bound)
//   r.trailing    bytes after the last complete response (should be empty)
//
// Bounds (functional, never timings under test): the read stops `idleMs`
// after the last byte arrived, or `maxMs` after the send, whichever is first.
// A test that expects the server to close asserts closed !== 'open'.
import net from 'node:net';

// Splits a byte stream into HTTP responses; returns { responses, rest }.
export function splitResponses(buf) {
  const responses = [];
  let off = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (headEnd < 0) break;
    const head = buf.subarray(off, headEnd).toString('latin1');
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i <= 0) continue;
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    const status = Number(m[1]);
    let p = headEnd + 4;
    let body;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      let complete = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          const end = buf.indexOf('\r\n\r\n', le, 'latin1');
          if (end < 0) break;
          p = end + 4;
          complete = true;
          break;
        }
        if (le + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if ('content-length' in headers) {
      const n = Number(headers['content-length']);
      if (p + n > buf.length) break;
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      // no framing: the body runs to the end of the connection
      body = buf.subarray(p);
      p = buf.length;
    }
    responses.push({ status, reason: m[2], headers, body, text: body.toString('utf8') });
    off = p;
  }
  return { responses, rest: buf.subarray(off) };
}

// Sends `data` (string: latin1 bytes, or a Buffer / array of them, written
// in that order) to 127.0.0.1:port and collects the answer.
export function rawRequest(port, data, { idleMs = 1500, maxMs = 10000, host = '127.0.0.1' } = {}) {
  const chunks = (Array.isArray(data) ? data : [data]).map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(d, 'latin1')));
  return new Promise((resolve, reject) => {
    const got = [];
    let closed = 'open';
    let done = false;
    let idle = null;
    const sock = net.connect({ host, port });
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(hard);
      sock.destroy();
      const all = Buffer.concat(got);
      const { responses, rest } = splitResponses(all);
      resolve({ responses, closed, trailing: rest, raw: all });
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
    };
    const hard = setTimeout(finish, maxMs);
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
      arm();
    });
    sock.on('data', (d) => { got.push(d); arm(); });
    sock.on('end', () => { closed = 'eof'; finish(); });
    sock.on('close', () => { if (closed === 'open' && !done) closed = 'eof'; finish(); });
    sock.on('error', (e) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
        closed = 'reset';
        finish();
      } else if (!done) {
        done = true;
        clearTimeout(idle);
        clearTimeout(hard);
        reject(e);
      }
    });
  });
}
