#include "engines/transit/tools.h"

#include <charconv>

#include "common/encoding.h"
#include "crypto/random.h"
#include "engines/transit/fields.h"
#include "engines/transit/key_types.h"

namespace coffer::engines::transit {
namespace {

bool IsSource(std::string_view s) { return s == "platform" || s == "seal" || s == "all"; }

}  // namespace

Result<logical::Response> HandleRandom(const logical::Request& request, std::string_view tail) {
  const Json& body = request.data;
  std::int64_t bytes = 32;
  std::string source = "platform";
  bool path_bytes = false;
  while (!tail.empty()) {
    if (tail.front() == '/') {
      tail.remove_prefix(1);
      continue;
    }
    auto slash = tail.find('/');
    std::string_view seg = tail.substr(0, slash);
    tail = slash == std::string_view::npos ? std::string_view() : tail.substr(slash);
    if (IsSource(seg)) {
      source = std::string(seg);
      continue;
    }
    std::int64_t n = 0;
    auto [ptr, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), n);
    if (ec != std::errc() || ptr != seg.data() + seg.size()) {
      return Err(
          InvalidArgument("invalid path: expected a number of bytes or a source "
                          "(platform, seal, all)"));
    }
    bytes = n;
    path_bytes = true;
  }
  if (!path_bytes) {
    ASSIGN_OR_RETURN(auto b, OptInt(body, "bytes"));
    if (b) bytes = *b;
  }
  ASSIGN_OR_RETURN(auto src, OptString(body, "source"));
  if (src && !src->empty()) source = *src;
  if (!IsSource(source)) return Err(InvalidArgument("unsupported source (platform, seal, all)"));
  if (bytes < 1) return Err(InvalidArgument("number of bytes must be positive"));
  if (bytes > kMaxRandomBytes) {
    return Err(InvalidArgument("number of bytes exceeds the maximum of " +
                               std::to_string(kMaxRandomBytes)));
  }
  ASSIGN_OR_RETURN(std::string format, StringOr(body, "format", "base64"));
  if (format != "base64" && format != "hex") {
    return Err(InvalidArgument("unsupported format (base64, hex)"));
  }
  ASSIGN_OR_RETURN(SecretBytes random, crypto::RandomSecret(static_cast<std::size_t>(bytes)));
  logical::Response r;
  r.data = Json{
      {"random_bytes", format == "hex" ? HexEncode(random.view()) : Base64Encode(random.view())}};
  return r;
}

Result<logical::Response> HandleHash(const logical::Request& request,
                                     std::string_view path_algorithm) {
  const Json& body = request.data;
  std::string algorithm(path_algorithm);
  if (algorithm.empty()) {
    ASSIGN_OR_RETURN(algorithm, StringOr(body, "algorithm", "sha2-256"));
  }
  const EVP_MD* md = algorithm == "sha1" ? nullptr : HashByName(algorithm);
  if (md == nullptr) {
    return Err(
        InvalidArgument("unsupported hash algorithm (sha2-224, sha2-256, sha2-384, "
                        "sha2-512, sha3-224, sha3-256, sha3-384, sha3-512)"));
  }
  ASSIGN_OR_RETURN(std::string format, StringOr(body, "format", "hex"));
  if (format != "hex" && format != "base64") {
    return Err(InvalidArgument("unsupported format (hex, base64)"));
  }
  ASSIGN_OR_RETURN(SecretBytes input, RequiredBase64(body, "input"));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), out, &len, md, nullptr) != 1) {
    return Err(Internal("hash failed"));
  }
  std::string_view sum(reinterpret_cast<const char*>(out), len);
  logical::Response r;
  r.data = Json{{"sum", format == "hex" ? HexEncode(sum) : Base64Encode(sum)}};
  return r;
}

}  // namespace coffer::engines::transit
