// Path help for the system backend (sys/): its routes as SystemBackend,
// the lifecycle handlers and the lease backend dispatch them.

#include "core/system_backend.h"

namespace coffer::core {

namespace {

constexpr std::string_view kDescription =
    "The system backend is mounted at sys/ and cannot be moved or disabled. It\n"
    "configures Coffer itself: initialisation, sealing and unsealing, the\n"
    "barrier's key, secrets engines and auth methods, policies, leases, audit\n"
    "devices, response wrapping, quotas, and the server's own state. Most of\n"
    "its paths need a root token or a policy with sudo on them.";

constexpr logical::RouteHelp kRoutes[] = {
    {"init", "Initialise a new store: unseal key shares and the first root token.",
     "GET reports whether the store is initialised. PUT with secret_shares and\n"
     "secret_threshold creates the barrier's key, splits the key that protects\n"
     "it into that many shares, and answers them with the initial root token\n"
     "(once, never again)."},
    {"seal-status", "Seal state, key shares and unseal progress.",
     "GET needs no token. It answers whether the server is sealed, the\n"
     "threshold and number of shares, and the progress of an unseal."},
    {"seal", "Seal the server.",
     "PUT seals: the barrier's key is dropped from memory and every request but\n"
     "status and unseal is refused until enough key shares are given again.\n"
     "Needs sudo."},
    {"unseal", "Give one unseal key share.",
     "PUT with key gives one share; when threshold shares have been given the\n"
     "server unseals. reset=true forgets the shares given so far."},
    {"health", "Health of the server, for load balancers.",
     "GET needs no token. The status code tells the state (200 active and\n"
     "unsealed, 503 sealed, 501 not initialised); query parameters such as\n"
     "sealedcode and uninitcode change the codes."},
    {"leader", "Whether this node is the leader.", ""},
    {"ha-status", "The nodes of the cluster: this node, the active one.", ""},
    {"step-down", "Give up the active role (a single node keeps it).",
     "PUT; needs sudo. A single node has no standby to hand over to, so the\n"
     "request succeeds and changes nothing."},
    {"key-status", "The barrier's current key term and when it was installed.", ""},
    {"rotate/keyring/config", "Automatic rotation of the barrier's key.",
     "GET reads and PUT sets max_operations, interval and enabled."},
    {"rotate/keyring", "Rotate the barrier's key.",
     "PUT adds a new key term; new writes use it, old data stays readable."},
    {"rotate/config", "Automatic rotation of the barrier's key.",
     "The same as rotate/keyring/config."},
    {"rotate", "Rotate the barrier's key.", "The same as rotate/keyring."},
    {"rekey/init", "Start, read or cancel a rekey of the unseal key shares.",
     "PUT with secret_shares and secret_threshold starts a rekey; GET reads its\n"
     "progress; DELETE cancels it."},
    {"rekey/update", "Give one current unseal key share to a rekey.",
     "PUT with key and the rekey's nonce. When enough shares are given the new\n"
     "shares are answered."},
    {"rekey/verify", "Verify the new shares of a rekey.", ""},
    {"generate-root/attempt", "Start, read or cancel the generation of a root token.",
     "PUT with a one-time password (otp) starts it; GET reads its progress;\n"
     "DELETE cancels it."},
    {"generate-root/update", "Give one unseal key share to a root token generation.",
     "PUT with key and the generation's nonce. The last share answers the new\n"
     "root token, encoded with the one-time password."},
    {"mounts/{path+}/tune", "Tune a secrets engine's settings.",
     "GET reads the mount's TTLs and options; POST changes default_lease_ttl,\n"
     "max_lease_ttl, description, options, audit_non_hmac_request_keys and the\n"
     "other tunable settings."},
    {"mounts/{path+}", "Enable, disable or read a secrets engine.",
     "POST with type (and optionally description, config, options) enables an\n"
     "engine at the path; GET reads its configuration; DELETE disables it,\n"
     "revoking its leases and deleting its data."},
    {"mounts", "List the mounted secrets engines.", ""},
    {"remount/status/{id}", "The progress of a move started by remount.", ""},
    {"remount", "Move a secrets engine or auth method to another path.",
     "POST with from and to. The mount keeps its data, its leases move with it."},
    {"auth/{path+}/tune", "Tune an auth method's settings.",
     "GET reads the method's TTLs and options; POST changes them."},
    {"auth/{path+}", "Enable, disable or read an auth method.",
     "POST with type enables a method at auth/<path>; GET reads it; DELETE\n"
     "disables it and revokes the tokens it issued."},
    {"auth", "List the enabled auth methods.", ""},
    {"internal/ui/mounts/{path+}", "One mount, as clients see it.",
     "GET answers the mount's type and options (the KV version for clients\n"
     "that detect it), if the caller's policies reach it."},
    {"internal/ui/mounts", "The mounts the caller's policies reach.", ""},
    {"internal/ui/resultant-acl", "The caller's effective permissions.", ""},
    {"internal/counters/{name}", "How many service tokens (tokens) or entities (entities) exist.",
     ""},
    {"policy/{name}", "Read, write or delete an ACL policy (older API).",
     "GET reads it; PUT with rules (HCL or JSON) writes it; DELETE removes it."},
    {"policy", "List the ACL policies (older API).", ""},
    {"policies/acl/{name}", "Read, write, patch or delete an ACL policy.",
     "GET reads it; PUT with policy (HCL or JSON, optionally base64) writes it,\n"
     "with cas for check-and-set; PATCH changes the fields given; DELETE\n"
     "removes it. default and root cannot be deleted."},
    {"policies/acl", "List the ACL policies.", ""},
    {"policies/detailed/acl{rest*}", "List the ACL policies with their details.", ""},
    {"policies/password/{name}/generate", "Generate a password with a password policy.", ""},
    {"policies/password/{name}", "Read, write or delete a password policy.",
     "PUT with policy (HCL: length and rules) writes it; GET reads it; DELETE\n"
     "removes it."},
    {"policies/password", "List the password policies.", ""},
    {"capabilities-self", "The caller's capabilities on paths.",
     "POST with paths (or path) answers the capabilities the caller's own\n"
     "token has on each."},
    {"capabilities-accessor", "A token's capabilities on paths, by accessor.", ""},
    {"capabilities", "A token's capabilities on paths.",
     "POST with token and paths answers the capabilities that token has."},
    {"wrapping/wrap", "Wrap the given data in a single-use wrapping token.", ""},
    {"wrapping/unwrap", "Unwrap a wrapped response, once.",
     "POST with token (or the wrapping token as the request's token) answers\n"
     "the wrapped response and revokes the wrapping token."},
    {"wrapping/lookup", "The creation time, TTL and path of a wrapping token.",
     "POST with token; needs no other token."},
    {"wrapping/rewrap", "Wrap a wrapped response again, under a new token.", ""},
    {"leases/lookup/{prefix*}", "Look up a lease, or list the leases under a prefix.",
     "POST with lease_id answers its issue and expire times and TTL; LIST\n"
     "answers the lease IDs under the prefix."},
    {"leases/renew", "Renew a lease.", "POST with lease_id and an optional increment."},
    {"leases/revoke-prefix/{prefix+}", "Revoke every lease under a prefix.", "Needs sudo."},
    {"leases/revoke-force/{prefix+}",
     "Revoke every lease under a prefix, ignoring the engine's errors.", "Needs sudo."},
    {"leases/revoke", "Revoke a lease.", "POST with lease_id; sync=false revokes later."},
    {"leases/tidy", "Clean up leases whose token no longer exists.", ""},
    {"leases/count", "Count leases by type.", ""},
    {"leases", "The leases that could not be revoked.", ""},
    {"renew{rest*}", "Renew a lease (older path).", ""},
    {"revoke-prefix/{prefix+}", "Revoke every lease under a prefix (older path).", ""},
    {"revoke-force/{prefix+}", "Force-revoke every lease under a prefix (older path).", ""},
    {"revoke{rest*}", "Revoke a lease (older path).", ""},
    {"tools/hash{rest*}", "Hash data (sha2-256 and others).",
     "POST with input (base64) and optionally algorithm and format."},
    {"tools/random{rest*}", "Random bytes from the server's generator.",
     "POST with bytes and format (base64 or hex)."},
    {"audit/{path+}", "Enable or disable an audit device.",
     "PUT with type (file, socket, syslog) and options enables a device;\n"
     "DELETE disables it."},
    {"audit", "List the enabled audit devices.", ""},
    {"audit-hash/{path+}", "The HMAC an audit device would write for a value.", "POST with input."},
    {"audit-verify/{path+}", "Verify the hash chain of a file audit device's log.", ""},
    {"config/auditing/request-headers/{header}",
     "Read, set or remove a request header that audit entries record.", ""},
    {"config/auditing/request-headers", "The request headers audit entries record.", ""},
    {"config/cors", "The CORS settings of the HTTP API.", ""},
    {"config/state/sanitized", "The server's configuration, without secrets.", ""},
    {"host-info", "The host's CPU, memory and disk.", ""},
    {"in-flight-req", "The requests being served now.", ""},
    {"loggers/{name}", "Read or change one logger's level.", ""},
    {"loggers", "Read or change every logger's level.", ""},
    {"metrics", "The server's metrics (JSON or Prometheus).", ""},
    {"monitor", "Stream the server's log.", ""},
    {"events/subscribe/{type+}",
     "Subscribe to events as Server-Sent Events (not over a WebSocket).", ""},
    {"events/webhooks{rest*}", "Webhooks that events are posted to.", ""},
    {"quotas/config", "Global settings of the rate limit quotas.", ""},
    {"quotas/rate-limit/{name}", "Read, write or delete a rate limit quota.", ""},
    {"quotas/rate-limit", "List the rate limit quotas.", ""},
    {"locked-users/{accessor}/unlock/{alias+}", "Unlock a user locked out after failed logins.",
     ""},
    {"locked-users", "The users locked out after failed logins.", ""},
    {"plugins/catalog{rest*}", "The engine and method types this server has built in.", ""},
    {"version-history", "The versions this store has run.", ""},
    {"mfa/validate", "Complete a login that needs a second factor.",
     "POST with mfa_request_id and a passcode for each method."},
};

}  // namespace

logical::EngineHelp SystemBackend::Help() { return {kDescription, kRoutes}; }

}  // namespace coffer::core
