#pragma once
// Hex and base64 (standard alphabet, padded) for keys and shares.
// Decoders reject malformed input instead of guessing.

#include <optional>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"

namespace coffer {

std::string HexEncode(std::string_view bytes);
std::optional<SecretBytes> HexDecode(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
std::optional<SecretBytes> Base64Decode(std::string_view b64);

}  // namespace coffer
