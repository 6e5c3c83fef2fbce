#pragma once
// The auth methods built into Coffer (besides the token method, which the
// core owns): "userpass", "approle" and "jwt"/"oidc".

namespace coffer::auth {

// Registers every built-in auth method type with logical::RegisterAuthMethod.
// Idempotent.
void RegisterAuthMethods();

}  // namespace coffer::auth
