// A real OAuth 2.0 / OpenID Connect authorization server (oidc-provider) for
// credctl's end-to-end tests. Loopback only, in-memory state; plain http, or
// https with a certificate the caller provides.
//
//   node tests/idp/server.mjs
//
// Prints exactly one JSON line on stdout once listening:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}      (plain http)
//   {"issuer":"https://localhost:PORT","port":PORT}     (IDP_TLS_CERT/KEY set)
// and everything else on stderr (or into IDP_LOG). Exits on SIGTERM/SIGINT and
// when stdin closes, so a test process that dies cannot leave node running (set
// IDP_EXIT_ON_STDIN_CLOSE=0 to run it by hand with stdin from /dev/null).
//
// Environment (all optional):
//   IDP_PORT               port to listen on, on 127.0.0.1; 0 = any free port (0)
//   IDP_TLS_CERT           PEM certificate (chain) file: serve https. Needs
//   IDP_TLS_KEY            its PEM private key file; set both or neither. The
//                          certificate must be valid for the name "localhost",
//                          which the issuer uses (the server still listens on
//                          127.0.0.1 only).
//   IDP_LOG                append everything but the JSON line to this file
//                          instead of stderr (oidc-provider's notices, Node's
//                          warnings, stack traces), so a terminal stays clean.
//                          A fatal error also prints one line on stderr.
//   IDP_ACCESS_TOKEN_TTL   seconds, AccessToken and ClientCredentials (3600)
//   IDP_REFRESH_TOKEN_TTL  seconds (86400)
//   IDP_DEVICE_CODE_TTL    seconds (600)
//   IDP_TOKEN_DELAY_MS     delay every token endpoint request by this much (0)
//   IDP_ROTATE_REFRESH     "1": rotate refresh tokens on every use, with reuse
//                          detection (a rotated-out token revokes the grant);
//                          "0": never rotate (default "1")
//   IDP_EXIT_ON_STDIN_CLOSE "0": keep running when stdin closes (default "1")
//
// Node.js: oidc-provider 9 asks for Node.js 22 LTS or later. Its check (in
// oidc-provider/lib/index.js) warns "Unsupported runtime. Use Node.js v22.x LTS,
// or a later LTS release." on any runtime whose LTS code name sorts before
// "Jod" (22), so on Node 20 ("Iron") too; it does not refuse to run, and its
// package.json declares no `engines`. This launcher and the whole test suite
// work on Node 20, so on Node 20 only, this one warning is dropped; on any
// other runtime it warns about (Node 21 or 23, Deno, Bun, ...) it is kept.
//
// Test-only endpoints: GET /__test/stats ->
//   {"token_requests":{"<grant_type>":N},"discovery_requests":N}
// and POST /__test/reset (zeroes the counters, answers the same shape).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

// IDP_LOG: everything written to stderr (console.error/warn, and so the
// notices below, Node's own warnings) goes to the file instead. Opened before
// anything else can print. Colours (oidc-provider adds them when a stream is a
// terminal) are stripped in the file.
const logPath = process.env.IDP_LOG || undefined;
if (logPath) {
  const fd = fs.openSync(logPath, 'a');
  const toStderr = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk, encoding, callback) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    fs.writeSync(fd, text.replace(/\x1b\[[0-9;]*m/g, ''));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  };
  // Node would print an uncaught error straight to the terminal: log it, and
  // say on stderr, in one line, where to look.
  const fatal = (err) => {
    fs.writeSync(fd, `${err?.stack ?? err}\n`);
    toStderr(`test IdP: ${err?.message ?? err} (details in ${logPath})\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

// oidc-provider prints its notices with console.info, i.e. on stdout, which is
// reserved for the one JSON line. Send them to stderr, before it is loaded.
console.log = console.info = console.debug = (...args) => console.error(...args);
// On Node 20, drop oidc-provider's import-time "Unsupported runtime" warning
// (see the header); everything else it says is kept.
const nodeMajor = Number(process.versions.node.split('.')[0]);
const { warn } = console;
if (nodeMajor === 20) {
  console.warn = (...args) => {
    if (!String(args[0]).includes('oidc-provider WARNING: Unsupported runtime.')) warn(...args);
  };
}
const { default: Provider } = await import('oidc-provider');
console.warn = warn;

const num = (name, dflt) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
};
const accessTtl = num('IDP_ACCESS_TOKEN_TTL', 3600);
const refreshTtl = num('IDP_REFRESH_TOKEN_TTL', 86400);
const deviceTtl = num('IDP_DEVICE_CODE_TTL', 600);
const tokenDelayMs = num('IDP_TOKEN_DELAY_MS', 0);
const rotateRefresh = (process.env.IDP_ROTATE_REFRESH ?? '1') !== '0';
const port = num('IDP_PORT', 0);
if (!Number.isInteger(port) || port > 65535) throw new Error(`IDP_PORT must be a port number (0-65535), got ${process.env.IDP_PORT}`);
const tlsCert = process.env.IDP_TLS_CERT || undefined;
const tlsKey = process.env.IDP_TLS_KEY || undefined;
if (!tlsCert !== !tlsKey) throw new Error('set both IDP_TLS_CERT and IDP_TLS_KEY, or neither');

// The bundled MemoryAdapter is an LRU of ~1000 entries: a long run loses grants.
// This one is a plain Map that never evicts. Expired entries stay, which is fine
// for a test process: oidc-provider checks `exp` itself (so an expired device
// code keeps answering expired_token instead of turning into invalid_grant).
const store = new Map();
class MapAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, _expiresIn) {
    store.set(this.key(id), payload);
    if (payload.grantId) {
      const k = `grant:${payload.grantId}`;
      if (!store.has(k)) store.set(k, new Set());
      store.get(k).add(this.key(id));
    }
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, id);
    if (this.model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, id);
  }

  async find(id) { return store.get(this.key(id)); }

  async findByUserCode(userCode) { return this.find(store.get(`userCode:${userCode}`)); }

  async findByUid(uid) { return this.find(store.get(`sessionUid:${uid}`)); }

  async consume(id) {
    const payload = store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const k = `grant:${grantId}`;
    for (const key of store.get(k) ?? []) store.delete(key);
    store.delete(k);
  }
}

const configuration = {
  adapter: MapAdapter,
  clients: [
    {
      // The CLI: a native public client, PKCE (S256) required. Loopback
      // redirect: the port is ignored when matching (RFC 8252 §7.3).
      client_id: 'credctl-public',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      // localhost and 127.0.0.1 are different registrations (RFC 8252 §7.3).
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback', 'http://[::1]/callback'],
    },
    {
      // client_credentials, and the tests' own introspection calls. Basic and
      // post both work for a client registered with either.
      client_id: 'credctl-confidential',
      client_secret: 'credctl-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
    {
      // bench/peers.sh: oidc-agent's oidc-gen insists on a client secret, so
      // the peer it benchmarks gets a confidential client with the device
      // and refresh grants. No test uses it.
      client_id: 'bench-confidential',
      client_secret: 'bench-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  // api:read is listed so discovery advertises it; client_credentials grants
  // whatever scope is requested (no resource indicators configured).
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  features: {
    devInteractions: { enabled: true }, // built-in login + consent HTML forms
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    // The default allowedPolicy lets any confidential client introspect any
    // token (only public callers are limited to their own), which we rely on.
    introspection: { enabled: true },
  },
  // Put the claims of the granted scopes (email, name) in the id_token too,
  // as Google and GitLab do; oidc-provider keeps them for userinfo by default.
  conformIdTokenClaims: false,
  ttl: {
    AccessToken: accessTtl,
    ClientCredentials: accessTtl,
    RefreshToken: refreshTtl,
    DeviceCode: deviceTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Session: 86400,
    Grant: 14 * 86400,
  },
  rotateRefreshToken: rotateRefresh,
  // Any login/password is accepted by devInteractions; the login becomes `sub`.
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: sub, email: `${sub}@example.test`, email_verified: true }),
  }),
  // oidc-provider marks its cookies `secure` exactly when the request is https
  // (Koa's ctx.secure: the socket is TLS, or, with `proxy` on, a trusted
  // X-Forwarded-Proto says so). This server terminates TLS itself, so over
  // https they are secure and a browser speaking https sends them back, and
  // over plain http they are not and work on 127.0.0.1. `proxy` stays off.
  cookies: { keys: ['credctl-test-idp-not-a-secret'] },
  // Error page the Rust helper can parse: one <pre>key: value</pre> per field.
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!DOCTYPE html><html><head><title>oops! something went wrong</title></head><body>
<h1>oops! something went wrong</h1>
${Object.entries(out).map(([k, v]) => `<pre>${esc(k)}: ${esc(v)}</pre>`).join('\n')}
</body></html>`;
  },
};

const server = tlsCert
  ? https.createServer({ cert: fs.readFileSync(tlsCert), key: fs.readFileSync(tlsKey) })
  : http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', (err) => {
    if (err.code === 'EADDRINUSE') err.message = `127.0.0.1:${port} is already in use (IDP_PORT=${port}): ${err.message}`;
    reject(err);
  });
  server.listen(port, '127.0.0.1', resolve);
});
const bound = server.address().port;
// Over https the issuer names "localhost", the name a certificate is made for;
// plain http keeps the address, as the test suite has always used it.
const issuer = tlsCert ? `https://localhost:${bound}` : `http://127.0.0.1:${bound}`;
const provider = new Provider(issuer, configuration);

// Token endpoint counters, counted when a request arrives (before it is
// answered) so concurrent tests see every request that reached the server.
let tokenRequests = {};
let discoveryRequests = 0;
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/stats' && ctx.method === 'GET') {
    ctx.body = { token_requests: tokenRequests, discovery_requests: discoveryRequests };
    return;
  }
  if (ctx.path === '/__test/reset' && ctx.method === 'POST') {
    tokenRequests = {};
    discoveryRequests = 0;
    ctx.body = { token_requests: tokenRequests, discovery_requests: discoveryRequests };
    return;
  }
  if (ctx.path.startsWith('/.well-known/') && ctx.method === 'GET') discoveryRequests += 1;
  if (ctx.path === '/token' && ctx.method === 'POST') {
    // Read the form body ourselves to learn grant_type; oidc-provider then
    // parses the buffer from req.body (it warns once about that, on stderr).
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const raw = Buffer.concat(chunks);
    ctx.req.body = raw;
    const grantType = new URLSearchParams(raw.toString('utf8')).get('grant_type') ?? '(none)';
    tokenRequests[grantType] = (tokenRequests[grantType] ?? 0) + 1;
    if (tokenDelayMs > 0) await sleep(tokenDelayMs);
  }
  await next();
});

server.on('request', provider.callback());

const shutdown = () => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if ((process.env.IDP_EXIT_ON_STDIN_CLOSE ?? '1') !== '0') {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

process.stdout.write(`${JSON.stringify({ issuer, port: bound })}\n`);
