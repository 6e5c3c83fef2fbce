// The real Node.js client node-vault drives a Coffer dev server.
// Run by test_node_vault.py: `node --test node_vault_test.js` with
// COFFER_ADDR (http://127.0.0.1:port) and COFFER_TOKEN (a root token).
'use strict';

const assert = require('node:assert/strict');
const { describe, it, before } = require('node:test');
const crypto = require('node:crypto');
const nodeVault = require('node-vault');

const ADDR = process.env.COFFER_ADDR;
const ROOT = process.env.COFFER_TOKEN;
if (!ADDR || !ROOT) throw new Error('COFFER_ADDR and COFFER_TOKEN must be set');

function client(token) {
  return nodeVault({ apiVersion: 'v1', endpoint: ADDR, token });
}
const unique = (p) => `${p}-${crypto.randomBytes(4).toString('hex')}`;

// Resolves to the ApiResponseError node-vault rejects with.
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected the request to fail');
}

describe('kv v2', () => {
  const vault = client(ROOT);

  it('writes versions and reads each of them', async () => {
    const path = unique('app');
    const w1 = await vault.write(`secret/data/${path}`, { data: { password: 'one' } });
    assert.equal(w1.data.version, 1);
    const w2 = await vault.write(`secret/data/${path}`, { data: { password: 'two' } });
    assert.equal(w2.data.version, 2);

    const latest = await vault.read(`secret/data/${path}`);
    assert.deepEqual(latest.data.data, { password: 'two' });
    assert.equal(latest.data.metadata.version, 2);
    const v1 = await vault.read(`secret/data/${path}?version=1`);
    assert.deepEqual(v1.data.data, { password: 'one' });

    const meta = await vault.read(`secret/metadata/${path}`);
    assert.equal(meta.data.current_version, 2);
    assert.deepEqual(Object.keys(meta.data.versions).sort(), ['1', '2']);
    const list = await vault.list('secret/metadata/');
    assert.ok(list.data.keys.includes(path));
  });

  it('check-and-set and merge patch', async () => {
    const path = unique('cas');
    await vault.write(`secret/data/${path}`, { data: { a: '1' }, options: { cas: 0 } });
    const err = await failure(
      vault.write(`secret/data/${path}`, { data: { a: 'x' }, options: { cas: 0 } }));
    assert.equal(err.response.statusCode, 400);
    assert.match(err.message, /check-and-set/);
    // node-vault's update() sends PATCH with application/merge-patch+json.
    const patched = await vault.update(`secret/data/${path}`, { data: { b: '2' } });
    assert.equal(patched.data.version, 2);
    const read = await vault.read(`secret/data/${path}`);
    assert.deepEqual(read.data.data, { a: '1', b: '2' });
  });

  it('deletes, undeletes and destroys versions', async () => {
    const path = unique('life');
    await vault.write(`secret/data/${path}`, { data: { n: '1' } });
    await vault.write(`secret/data/${path}`, { data: { n: '2' } });
    await vault.delete(`secret/data/${path}`);
    const gone = await failure(vault.read(`secret/data/${path}`));
    assert.equal(gone.response.statusCode, 404);
    // Vault's 404 for a deleted version still carries its metadata.
    assert.equal(gone.response.body.data.metadata.version, 2);
    await vault.write(`secret/undelete/${path}`, { versions: [2] });
    assert.deepEqual((await vault.read(`secret/data/${path}`)).data.data, { n: '2' });
    await vault.destroySecretVersions({ path, versions: [1] });
    const meta = await vault.read(`secret/metadata/${path}`);
    assert.equal(meta.data.versions['1'].destroyed, true);
    await vault.delete(`secret/metadata/${path}`);
    assert.equal((await failure(vault.read(`secret/metadata/${path}`))).response.statusCode, 404);
  });
});

describe('kv v1', () => {
  const vault = client(ROOT);
  before(async () => {
    await vault.mount({ mount_point: 'kv1', type: 'kv', options: { version: '1' } });
  });

  it('mount listing shows a v1 kv', async () => {
    const mounts = await vault.mounts();
    assert.equal(mounts.data['kv1/'].type, 'kv');
    assert.equal(mounts.data['kv1/'].options.version, '1');
  });

  it('writes, reads, lists and deletes', async () => {
    const w = await vault.write('kv1/team/a', { user: 'alice', n: 1 });
    assert.ok(!w); // 204: node-vault resolves with the empty body
    await vault.write('kv1/team/b', { user: 'bob' });
    await vault.write('kv1/team/sub/c', { user: 'carol' });
    const a = await vault.read('kv1/team/a');
    assert.deepEqual(a.data, { user: 'alice', n: 1 });
    const list = await vault.list('kv1/team');
    assert.deepEqual(list.data.keys, ['a', 'b', 'sub/']);
    await vault.delete('kv1/team/a');
    assert.equal((await failure(vault.read('kv1/team/a'))).response.statusCode, 404);
    assert.deepEqual((await vault.list('kv1/team')).data.keys, ['b', 'sub/']);
  });
});

describe('policies', () => {
  const vault = client(ROOT);
  const rules = 'path "secret/data/team/*" {\n  capabilities = ["read"]\n}\n';

  it('addPolicy, getPolicy, policies, removePolicy', async () => {
    const name = unique('team');
    await vault.addPolicy({ name, rules });
    const got = await vault.getPolicy({ name });
    assert.equal(got.name, name);
    assert.equal(got.rules, rules);
    assert.equal(got.data.rules, rules);
    const all = await vault.policies();
    assert.ok(all.policies.includes(name));
    assert.ok(all.policies.includes('default'));
    assert.ok(all.data.keys.includes('root'));
    await vault.removePolicy({ name });
    assert.ok(!(await vault.policies()).policies.includes(name));
    assert.equal((await failure(vault.getPolicy({ name }))).response.statusCode, 404);
  });

  it('refuses bad policy text', async () => {
    const err = await failure(vault.addPolicy({ name: unique('bad'), rules: 'path "a" {' }));
    assert.equal(err.response.statusCode, 400);
  });
});

describe('tokens', () => {
  const admin = client(ROOT);
  // node-vault makes the token that tokenCreate returns the client's token:
  // create with a throwaway client so `admin` stays root.
  const create = async (args, parent = ROOT) => (await client(parent).tokenCreate(args)).auth;

  before(async () => {
    await admin.addPolicy({
      name: 'creator',
      rules: 'path "auth/token/create" { capabilities = ["update"] }',
    });
  });

  it('tokenCreate sets the client token (node-vault behaviour)', async () => {
    const c = client(ROOT);
    const res = await c.tokenCreate({ policies: ['default'], ttl: '10m' });
    assert.equal(c.token, res.auth.client_token);
    const me = await c.tokenLookupSelf();
    assert.equal(me.data.id, res.auth.client_token);
    assert.deepEqual(me.data.policies, ['default']);
  });

  it('tokenCreate, tokenLookup, tokenLookupSelf, tokenLookupAccessor', async () => {
    const auth = await create({ policies: ['default'], ttl: '1h', meta: { team: 'js' },
                                display_name: 'js' });
    assert.match(auth.client_token, /^hvs\./);
    assert.equal(auth.lease_duration, 3600);
    assert.equal(auth.renewable, true);
    assert.deepEqual(auth.policies, ['default']);

    const look = await admin.tokenLookup({ token: auth.client_token });
    assert.equal(look.data.accessor, auth.accessor);
    assert.equal(look.data.display_name, 'token-js');
    assert.deepEqual(look.data.meta, { team: 'js' });
    assert.equal(look.data.creation_ttl, 3600);
    assert.ok(look.data.ttl > 3590 && look.data.ttl <= 3600);

    const self = await client(auth.client_token).tokenLookupSelf();
    assert.equal(self.data.id, auth.client_token);

    const byAcc = await admin.tokenLookupAccessor({ accessor: auth.accessor });
    assert.equal(byAcc.data.id, '');
    assert.deepEqual(byAcc.data.policies, ['default']);

    const accessors = await admin.tokenAccessors();
    assert.ok(accessors.data.keys.includes(auth.accessor));
  });

  it('tokenRenew and tokenRenewSelf', async () => {
    const auth = await create({ policies: ['default'], ttl: '10m' });
    const r = await client(ROOT).tokenRenew({ token: auth.client_token, increment: '1h' });
    assert.equal(r.auth.lease_duration, 3600);
    const c = client(auth.client_token);
    const s = await c.tokenRenewSelf({ increment: '2h' });
    assert.equal(s.auth.lease_duration, 7200);
    assert.equal(c.token, auth.client_token);
  });

  it('tokenRevoke cascades to the children', async () => {
    const parent = await create({ policies: ['creator'], ttl: '1h' });
    const child = await create({ policies: ['creator'], ttl: '1h' }, parent.client_token);
    const grandchild = await create({ policies: ['default'], ttl: '1h' }, child.client_token);
    assert.equal((await admin.tokenLookup({ token: grandchild.client_token })).data.orphan, false);

    await admin.tokenRevoke({ token: parent.client_token });
    for (const t of [parent, child, grandchild]) {
      const err = await failure(admin.tokenLookup({ token: t.client_token }));
      assert.equal(err.response.statusCode, 403);
    }
    const accessors = (await admin.tokenAccessors()).data.keys;
    for (const t of [parent, child, grandchild]) assert.ok(!accessors.includes(t.accessor));
  });

  it('tokenRevokeOrphan keeps the children', async () => {
    const parent = await create({ policies: ['creator'], ttl: '1h' });
    const child = await create({ policies: ['default'], ttl: '1h' }, parent.client_token);
    await admin.tokenRevokeOrphan({ token: parent.client_token });
    assert.equal((await failure(admin.tokenLookup({ token: parent.client_token })))
      .response.statusCode, 403);
    const look = await admin.tokenLookup({ token: child.client_token });
    assert.equal(look.data.orphan, true);
  });

  it('tokenRevokeAccessor and tokenRevokeSelf', async () => {
    const a = await create({ policies: ['default'], ttl: '1h' });
    await admin.tokenRevokeAccessor({ accessor: a.accessor });
    assert.equal((await failure(client(a.client_token).tokenLookupSelf())).response.statusCode,
                 403);
    const b = await create({ policies: ['default'], ttl: '1h' });
    await client(b.client_token).tokenRevokeSelf();
    assert.equal((await failure(admin.tokenLookup({ token: b.client_token }))).response.statusCode,
                 403);
  });

  it('an unknown token is refused with 403', async () => {
    const err = await failure(client('hvs.doesnotexist000000000000').tokenLookupSelf());
    assert.equal(err.response.statusCode, 403);
    assert.ok(err.response.body.errors.length > 0);
  });
});

describe('response wrapping', () => {
  const admin = client(ROOT);

  it('wraps tokenCreate through X-Vault-Wrap-TTL and unwraps once', async () => {
    const wrapped = await client(ROOT).tokenCreate({
      policies: ['default'], ttl: '1h',
      requestOptions: { headers: { 'X-Vault-Wrap-TTL': '2m' } },
    });
    assert.equal(wrapped.auth, null);
    assert.equal(wrapped.wrap_info.ttl, 120);
    assert.equal(wrapped.wrap_info.creation_path, 'auth/token/create');
    const wrapToken = wrapped.wrap_info.token;

    // Unwrap with the wrapping token as the client token.
    const out = await client(wrapToken).unwrap();
    assert.match(out.auth.client_token, /^hvs\./);
    assert.deepEqual(out.auth.policies, ['default']);
    const look = await admin.tokenLookup({ token: out.auth.client_token });
    assert.equal(look.data.creation_ttl, 3600);

    // Single use.
    const again = await failure(admin.unwrap({ token: wrapToken }));
    assert.ok([400, 403].includes(again.response.statusCode), again.message);
  });

  it('wraps a kv read and unwraps with the token in the body', async () => {
    const path = unique('wrapped');
    await admin.write(`secret/data/${path}`, { data: { pw: 'hunter2' } });
    const wrapped = await admin.read(`secret/data/${path}`,
                                     { headers: { 'X-Vault-Wrap-TTL': '60s' } });
    assert.equal(wrapped.data, null);
    assert.equal(wrapped.wrap_info.creation_path, `secret/data/${path}`);
    const looked = await client(undefined).write('sys/wrapping/lookup',
                                                 { token: wrapped.wrap_info.token });
    assert.equal(looked.data.creation_ttl, 60);
    const out = await admin.unwrap({ token: wrapped.wrap_info.token });
    assert.deepEqual(out.data.data, { pw: 'hunter2' });
  });

  it('sys/wrapping/wrap wraps arbitrary data', async () => {
    const wrapped = await admin.write('sys/wrapping/wrap', { k: 'v' },
                                      { headers: { 'X-Vault-Wrap-TTL': '90s' } });
    assert.equal(wrapped.wrap_info.ttl, 90);
    const out = await admin.unwrap({ token: wrapped.wrap_info.token });
    assert.deepEqual(out.data, { k: 'v' });
  });
});

describe('transit', () => {
  const vault = client(ROOT);
  const b64 = (s) => Buffer.from(s).toString('base64');
  const unb64 = (s) => Buffer.from(s, 'base64').toString();

  before(async () => {
    await vault.mount({ mount_point: 'transit', type: 'transit' });
  });

  it('creates, reads, lists and deletes keys with the transit helpers', async () => {
    const name = unique('nk');
    await vault.transitCreateKey({ name, type: 'chacha20-poly1305' });
    const key = await vault.transitReadKey({ name });
    assert.equal(key.data.type, 'chacha20-poly1305');
    assert.equal(key.data.latest_version, 1);
    const list = await vault.transitListKeys();
    assert.ok(list.data.keys.includes(name));
    await vault.write(`transit/keys/${name}/config`, { deletion_allowed: true });
    await vault.transitDeleteKey({ name });
    const gone = await failure(vault.transitReadKey({ name }));
    assert.equal(gone.response.statusCode, 404);
  });

  it('encrypts, decrypts, rotates and rewraps', async () => {
    const name = unique('enc');
    await vault.transitCreateKey({ name });
    const enc = await vault.encryptData({ name, plaintext: b64('node secret') });
    assert.match(enc.data.ciphertext, /^vault:v1:/);
    const dec = await vault.decryptData({ name, ciphertext: enc.data.ciphertext });
    assert.equal(unb64(dec.data.plaintext), 'node secret');
    await vault.write(`transit/keys/${name}/rotate`, {});
    const re = await vault.rewrapData({ name, ciphertext: enc.data.ciphertext });
    assert.match(re.data.ciphertext, /^vault:v2:/);
    const dec2 = await vault.decryptData({ name, ciphertext: re.data.ciphertext });
    assert.equal(unb64(dec2.data.plaintext), 'node secret');
    const bad = await failure(vault.decryptData({ name, ciphertext: 'vault:v1:AAAA' }));
    assert.equal(bad.response.statusCode, 400);
  });

  it('datakey, hmac and sign/verify', async () => {
    const name = unique('dk');
    await vault.transitCreateKey({ name });
    const dk = await vault.write(`transit/datakey/plaintext/${name}`, { bits: 256 });
    assert.equal(Buffer.from(dk.data.plaintext, 'base64').length, 32);
    const back = await vault.decryptData({ name, ciphertext: dk.data.ciphertext });
    assert.equal(back.data.plaintext, dk.data.plaintext);

    const mac = await vault.write(`transit/hmac/${name}`, { input: b64('m') });
    const ok = await vault.write(`transit/verify/${name}`, { input: b64('m'), hmac: mac.data.hmac });
    assert.equal(ok.data.valid, true);

    const signer = unique('ed');
    await vault.transitCreateKey({ name: signer, type: 'ed25519' });
    const sig = await vault.write(`transit/sign/${signer}`, { input: b64('doc') });
    assert.match(sig.data.signature, /^vault:v1:/);
    const v = await vault.write(`transit/verify/${signer}`,
                                { input: b64('doc'), signature: sig.data.signature });
    assert.equal(v.data.valid, true);
    const nv = await vault.write(`transit/verify/${signer}`,
                                 { input: b64('dog'), signature: sig.data.signature });
    assert.equal(nv.data.valid, false);
  });
});

describe('auth methods', () => {
  const vault = client(ROOT);
  const upMount = unique('up');
  const arMount = unique('ar');
  const policy = unique('auth-read');

  before(async () => {
    await vault.enableAuth({ mount_point: upMount, type: 'userpass' });
    await vault.enableAuth({ mount_point: arMount, type: 'approle' });
    await vault.addPolicy({
      name: policy,
      rules: 'path "secret/data/auth-shared/*" { capabilities = ["read"] }',
    });
    await vault.write('secret/data/auth-shared/cfg', { data: { v: 'shared' } });
    await vault.write('secret/data/auth-private/cfg', { data: { v: 'private' } });
  });

  it('lists the enabled methods', async () => {
    const auths = await vault.auths();
    const data = auths.data || auths;
    assert.equal(data[`${upMount}/`].type, 'userpass');
    assert.equal(data[`${arMount}/`].type, 'approle');
    assert.ok(data['token/']);
  });

  it('userpass login adopts a token with the user policies', async () => {
    await vault.write(`auth/${upMount}/users/grace`,
                      { password: 'grace-pw', token_policies: policy });
    const user = client();
    const res = await user.userpassLogin({ mount_point: upMount, username: 'grace',
                                           password: 'grace-pw' });
    assert.deepEqual(res.auth.policies, [policy, 'default'].sort());
    assert.equal(user.token, res.auth.client_token);
    const shared = await user.read('secret/data/auth-shared/cfg');
    assert.equal(shared.data.data.v, 'shared');
    const denied = await failure(user.read('secret/data/auth-private/cfg'));
    assert.equal(denied.response.statusCode, 403);

    const wrong = await failure(client().userpassLogin({ mount_point: upMount,
                                                         username: 'grace', password: 'nope' }));
    assert.equal(wrong.response.statusCode, 400);
    assert.match(wrong.message, /invalid username or password/);
    const unknown = await failure(client().userpassLogin({ mount_point: upMount,
                                                           username: 'nobody', password: 'x' }));
    assert.equal(unknown.response.statusCode, 400);
  });

  it('approle login adopts a token with the role policies', async () => {
    await vault.addApproleRole({ mount_point: arMount, role_name: 'deploy', policies: policy });
    const rid = await vault.getApproleRoleId({ mount_point: arMount, role_name: 'deploy' });
    const sid = await vault.getApproleRoleSecret({ mount_point: arMount, role_name: 'deploy',
                                                   metadata: '{"env":"ci"}' });
    const machine = client();
    const res = await machine.approleLogin({ mount_point: arMount, role_id: rid.data.role_id,
                                             secret_id: sid.data.secret_id });
    assert.deepEqual(res.auth.policies, [policy, 'default'].sort());
    assert.equal(res.auth.metadata.role_name, 'deploy');
    assert.equal(res.auth.metadata.env, 'ci');
    assert.equal(machine.token, res.auth.client_token);
    const shared = await machine.read('secret/data/auth-shared/cfg');
    assert.equal(shared.data.data.v, 'shared');
    const denied = await failure(machine.read('secret/data/auth-private/cfg'));
    assert.equal(denied.response.statusCode, 403);

    const wrong = await failure(client().approleLogin({ mount_point: arMount,
                                                        role_id: rid.data.role_id,
                                                        secret_id: 'not-it' }));
    assert.equal(wrong.response.statusCode, 400);
    assert.match(wrong.message, /invalid role or secret ID/);
    await vault.disableAuth({ mount_point: arMount });
    const gone = await failure(machine.read('secret/data/auth-shared/cfg'));
    assert.equal(gone.response.statusCode, 403);
  });
});

describe('path help', () => {
  const vault = client(ROOT);

  it('answers help for a mount and a route, and never runs the route', async () => {
    const path = unique('help');
    await vault.write(`secret/data/${path}`, { data: { v: 'kept-value' } });
    const mount = await vault.help('secret');
    assert.match(mount.help, /## PATHS/);
    assert.match(mount.help, /\^data\/\(\?P<path>\.\+\)\$/);
    const route = await vault.help(`secret/data/${path}`);
    assert.match(route.help, /Matching Route: \^data\//);
    assert.ok(!JSON.stringify(route).includes('kept-value'));
    const unknown = await failure(vault.help('no-such-mount/x'));
    assert.equal(unknown.response.statusCode, 404);
    const anonymous = await failure(client().help('secret'));
    assert.equal(anonymous.response.statusCode, 403);
  });
});
