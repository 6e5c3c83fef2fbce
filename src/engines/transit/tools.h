#pragma once
// Random bytes and hashing, served both by the transit engine
// (transit/random, transit/hash) and by sys/tools/random and sys/tools/hash.
//
//   random[/:source][/:bytes]  {bytes (32), format base64|hex, source
//                               platform|seal|all} → {random_bytes}
//   hash[/:algorithm]          {input (base64), algorithm (sha2-256),
//                               format hex|base64} → {sum}
//
// All sources draw from OpenSSL's DRBG (there is no separate seal entropy).
// Thread-safe. Errors: kInvalidArgument for a bad field (named, never quoted).

#include <string_view>

#include "common/status.h"
#include "logical/request.h"

namespace coffer::engines::transit {

inline constexpr std::int64_t kMaxRandomBytes = 128 * 1024;

// `tail` is what follows "random" in the path: "", "/64", "/platform",
// "/all/64".
Result<logical::Response> HandleRandom(const logical::Request& request, std::string_view tail);
// `path_algorithm` is the algorithm from the path, or empty.
Result<logical::Response> HandleHash(const logical::Request& request,
                                     std::string_view path_algorithm);

}  // namespace coffer::engines::transit
