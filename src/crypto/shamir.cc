#include "crypto/shamir.h"

#include <openssl/crypto.h>

#include <array>

#include "crypto/random.h"

namespace coffer::crypto::shamir {
namespace {

// An all-ones byte when bit 0 of v is set, zero otherwise, without a branch.
inline std::uint8_t MaskFromLowBit(unsigned v) { return static_cast<std::uint8_t>(0u - (v & 1u)); }

// Evaluates the polynomial with coefficients coeffs[0..degree] at x (Horner).
std::uint8_t Evaluate(std::span<const std::uint8_t> coeffs, std::uint8_t x) {
  std::uint8_t result = coeffs.back();
  for (std::size_t i = coeffs.size() - 1; i-- > 0;) {
    result = GfAdd(GfMul(result, x), coeffs[i]);
  }
  return result;
}

// A uniformly random permutation of 1..255 (Fisher-Yates with rejection
// sampling). The x coordinates are public, so this need not be constant time.
Result<std::array<std::uint8_t, 255>> RandomXCoordinates() {
  std::array<std::uint8_t, 255> xs{};
  for (int i = 0; i < 255; ++i) xs[i] = static_cast<std::uint8_t>(i + 1);
  for (int i = 254; i > 0; --i) {
    // Uniform j in [0, i] from random bytes, rejecting the biased tail.
    const unsigned bound = static_cast<unsigned>(i) + 1;
    const unsigned limit = 256 - (256 % bound);
    unsigned j = 0;
    for (;;) {
      std::uint8_t r = 0;
      TRY(RandomFill({&r, 1}));
      if (r < limit) {
        j = r % bound;
        break;
      }
    }
    std::swap(xs[i], xs[j]);
  }
  return xs;
}

}  // namespace

std::uint8_t GfAdd(std::uint8_t a, std::uint8_t b) { return a ^ b; }

std::uint8_t GfMul(std::uint8_t a, std::uint8_t b) {
  unsigned aa = a;
  unsigned bb = b;
  unsigned r = 0;
  for (int i = 0; i < 8; ++i) {
    r ^= aa & MaskFromLowBit(bb);
    // Multiply aa by x, reducing by 0x11b when the top bit falls out.
    const std::uint8_t carry = MaskFromLowBit(aa >> 7);
    aa = ((aa << 1) & 0xffu) ^ (0x1bu & carry);
    bb >>= 1;
  }
  return static_cast<std::uint8_t>(r);
}

std::uint8_t GfInv(std::uint8_t a) {
  // a^254 = a^-1 in GF(2^8)* (a^255 = 1); 254 = 2 + 4 + ... + 128.
  std::uint8_t square = GfMul(a, a);  // a^2
  std::uint8_t result = square;
  for (int i = 2; i < 8; ++i) {
    square = GfMul(square, square);  // a^(2^i)
    result = GfMul(result, square);
  }
  return result;
}

std::uint8_t GfDiv(std::uint8_t a, std::uint8_t b) { return GfMul(a, GfInv(b)); }

Result<std::vector<SecretBytes>> Split(const SecretBytes& secret, int parts, int threshold) {
  if (parts < threshold) return Err(InvalidArgument("parts cannot be less than threshold"));
  if (parts > 255) return Err(InvalidArgument("parts cannot exceed 255"));
  if (threshold < 2) return Err(InvalidArgument("threshold must be at least 2"));
  if (secret.empty()) return Err(InvalidArgument("cannot split an empty secret"));

  ASSIGN_OR_RETURN(auto xs, RandomXCoordinates());

  std::vector<SecretBytes> out;
  out.reserve(static_cast<std::size_t>(parts));
  for (int i = 0; i < parts; ++i) {
    SecretBytes share(secret.size() + 1);
    share.data()[secret.size()] = xs[static_cast<std::size_t>(i)];
    out.push_back(std::move(share));
  }

  // One polynomial per secret byte: coeffs[0] is the byte, the rest random.
  // SecretBytes wipes the coefficients when it goes out of scope.
  SecretBytes coeffs(static_cast<std::size_t>(threshold));
  for (std::size_t idx = 0; idx < secret.size(); ++idx) {
    TRY(RandomFill({coeffs.data() + 1, coeffs.size() - 1}));
    coeffs.data()[0] = secret.data()[idx];
    for (int i = 0; i < parts; ++i) {
      out[static_cast<std::size_t>(i)].data()[idx] =
          Evaluate(coeffs.span(), xs[static_cast<std::size_t>(i)]);
    }
  }
  OPENSSL_cleanse(xs.data(), xs.size());
  return out;
}

Result<SecretBytes> Combine(std::span<const SecretBytes> parts) {
  if (parts.size() < 2)
    return Err(InvalidArgument("less than two parts cannot be used to reconstruct the secret"));
  const std::size_t len = parts[0].size();
  if (len < 2) return Err(InvalidArgument("parts must be at least two bytes"));
  for (const SecretBytes& p : parts) {
    if (p.size() != len) return Err(InvalidArgument("all parts must be the same length"));
  }
  const std::size_t n = parts.size();
  std::vector<std::uint8_t> xs(n);
  for (std::size_t i = 0; i < n; ++i) {
    xs[i] = parts[i].data()[len - 1];
    if (xs[i] == 0) return Err(InvalidArgument("part has a zero x coordinate"));
    for (std::size_t j = 0; j < i; ++j) {
      if (xs[j] == xs[i]) return Err(InvalidArgument("duplicate part detected"));
    }
  }

  // Lagrange basis at 0 for each part: prod_{j != i} x_j / (x_i - x_j); in
  // characteristic 2, subtraction is xor. The x's are public, the products
  // are not secret either, but they are cheap, so they are wiped all the same.
  SecretBytes basis(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t b = 1;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      b = GfMul(b, GfDiv(xs[j], GfAdd(xs[i], xs[j])));
    }
    basis.data()[i] = b;
  }

  SecretBytes secret(len - 1);
  for (std::size_t idx = 0; idx + 1 < len; ++idx) {
    std::uint8_t acc = 0;
    for (std::size_t i = 0; i < n; ++i) {
      acc = GfAdd(acc, GfMul(parts[i].data()[idx], basis.data()[i]));
    }
    secret.data()[idx] = acc;
  }
  OPENSSL_cleanse(xs.data(), xs.size());
  return secret;
}

}  // namespace coffer::crypto::shamir
