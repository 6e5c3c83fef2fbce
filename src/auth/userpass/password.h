#pragma once
// Password hashing for userpass: Argon2id (libsodium's crypto_pwhash_str,
// algorithm ARGON2ID13), stored as the PHC string "$argon2id$v=19$m=...".
//
// Parameters (kOpsLimit, kMemLimit): 2 passes over 19 MiB, one lane — the
// OWASP password storage minimum for Argon2id, about 20-40 ms per hash on
// this machine. The string records its own parameters, so raising them later
// keeps old hashes verifiable (NeedsRehash tells when to rewrite).
//
// Thread-safe. Errors: kInternal when libsodium cannot initialise or runs
// out of memory; never a message that contains the password.

#include <string>
#include <string_view>

#include "common/secret_bytes.h"
#include "common/status.h"

namespace coffer::auth::userpass {

inline constexpr unsigned long long kOpsLimit = 2;
inline constexpr std::size_t kMemLimit = 19 * 1024 * 1024;

// A fresh salted Argon2id hash of `password`.
Result<std::string> HashPassword(std::string_view password);

// Whether `password` matches `hash`. A malformed hash is a mismatch.
bool VerifyPassword(std::string_view hash, std::string_view password);

// Spends the same time as VerifyPassword against a real hash with the
// current parameters, and answers false: the path for unknown users, so a
// login for a missing user costs what one for an existing user does.
bool VerifyAgainstDummy(std::string_view password);

// Computes the dummy hash now (engines call it when they start, so the
// first unknown-user login does not pay for it).
void PrepareDummyHash();

// Whether `hash` was made with other parameters than the current ones.
bool NeedsRehash(std::string_view hash);

}  // namespace coffer::auth::userpass
