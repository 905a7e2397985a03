// A real OpenID Connect provider (the `oidc-provider` package) for the dashboard's
// council sign-in tests. Not a fake: discovery, JWKS, authorization code + PKCE, signed
// ID tokens, as Entra ID would serve them (groups in the ID token's `groups` claim).
//
// Usage: node provider.js CONFIG.json
//   CONFIG: {"port": 0, "clients": [{"client_id", "client_secret", "redirect_uris": [...]}],
//            "accounts": {"<login>": {"groups": [...], "roles": [...], "name", "email"}}}
// The sign-in form is the provider's own development form (any password); a login not in
// `accounts` signs in with no groups. Consent is given at once (the app is the council's).
// Prints one JSON line {"issuer": "..."} once listening; exits when stdin closes.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const server = createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const accounts = config.accounts || {};

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...c,
  })),
  pkce: { required: () => true },
  // Entra ID sends groups and app roles whatever the scopes (the app's token configuration).
  claims: {
    openid: ['sub', 'groups', 'roles'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
  },
  // Entra ID puts the claims in the ID token; so does this provider.
  conformIdTokenClaims: false,
  ttl: { IdToken: config.id_token_ttl || 3600 },
  async findAccount(_ctx, id) {
    const who = accounts[id] || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: who.name, email: who.email, groups: who.groups || [], roles: who.roles || [] };
      },
    };
  },
  async loadExistingGrant(ctx) {
    // Auto-consent: every scope and claim the client asked for.
    const { Grant } = ctx.oidc.provider;
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await Grant.find(grantId) : undefined;
    if (!grant) {
      grant = new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    }
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
});
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
