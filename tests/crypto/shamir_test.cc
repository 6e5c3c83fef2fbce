#include "crypto/shamir.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/random.h"

namespace coffer::crypto::shamir {
namespace {

// Slow, obviously correct reference: carry-less multiply then reduce.
std::uint8_t ReferenceMul(std::uint8_t a, std::uint8_t b) {
  unsigned product = 0;
  for (int i = 0; i < 8; ++i) {
    if ((b >> i) & 1) product ^= static_cast<unsigned>(a) << i;
  }
  for (int bit = 14; bit >= 8; --bit) {
    if ((product >> bit) & 1) product ^= 0x11bu << (bit - 8);
  }
  return static_cast<std::uint8_t>(product);
}

TEST(GfTest, MulMatchesReferenceAndIsCommutative) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      auto x = static_cast<std::uint8_t>(a);
      auto y = static_cast<std::uint8_t>(b);
      ASSERT_EQ(GfMul(x, y), ReferenceMul(x, y)) << a << "*" << b;
      ASSERT_EQ(GfMul(x, y), GfMul(y, x));
    }
  }
  // A known AES value: {57} * {83} = {c1} (FIPS-197 4.2).
  EXPECT_EQ(GfMul(0x57, 0x83), 0xc1);
}

TEST(GfTest, IdentityZeroAndInverse) {
  EXPECT_EQ(GfInv(0), 0);
  for (int a = 0; a < 256; ++a) {
    auto x = static_cast<std::uint8_t>(a);
    EXPECT_EQ(GfMul(x, 1), x);
    EXPECT_EQ(GfMul(x, 0), 0);
    EXPECT_EQ(GfAdd(x, x), 0);
    if (a != 0) {
      EXPECT_EQ(GfMul(x, GfInv(x)), 1) << a;
      EXPECT_EQ(GfDiv(x, x), 1) << a;
    }
  }
  std::set<int> inverses;
  for (int a = 1; a < 256; ++a) inverses.insert(GfInv(static_cast<std::uint8_t>(a)));
  EXPECT_EQ(inverses.size(), 255u);
}

TEST(GfTest, Distributive) {
  for (int a = 0; a < 256; a += 7) {
    for (int b = 0; b < 256; b += 5) {
      for (int c = 0; c < 256; c += 11) {
        auto x = static_cast<std::uint8_t>(a), y = static_cast<std::uint8_t>(b),
             z = static_cast<std::uint8_t>(c);
        ASSERT_EQ(GfMul(x, GfAdd(y, z)), GfAdd(GfMul(x, y), GfMul(x, z)));
      }
    }
  }
}

SecretBytes Secret() { return std::move(RandomSecret(32).value()); }

std::vector<SecretBytes> Pick(const std::vector<SecretBytes>& shares, std::vector<int> idx) {
  std::vector<SecretBytes> out;
  for (int i : idx) out.push_back(shares[static_cast<std::size_t>(i)].Clone());
  return out;
}

// Every subset of {0..n-1} with exactly k members.
void Subsets(int n, int k, int start, std::vector<int>& cur, std::vector<std::vector<int>>& out) {
  if (static_cast<int>(cur.size()) == k) {
    out.push_back(cur);
    return;
  }
  for (int i = start; i < n; ++i) {
    cur.push_back(i);
    Subsets(n, k, i + 1, cur, out);
    cur.pop_back();
  }
}

TEST(ShamirTest, ShareLayout) {
  SecretBytes secret = Secret();
  auto shares = Split(secret, 5, 3);
  ASSERT_TRUE(shares.has_value());
  ASSERT_EQ(shares->size(), 5u);
  std::set<int> xs;
  for (const auto& s : *shares) {
    ASSERT_EQ(s.size(), 33u);
    int x = s.data()[32];
    EXPECT_NE(x, 0);
    xs.insert(x);
  }
  EXPECT_EQ(xs.size(), 5u);
}

TEST(ShamirTest, EveryThresholdSubsetRecovers) {
  SecretBytes secret = Secret();
  auto shares = Split(secret, 5, 3);
  ASSERT_TRUE(shares.has_value());
  for (int k : {3, 4, 5}) {
    std::vector<std::vector<int>> subsets;
    std::vector<int> cur;
    Subsets(5, k, 0, cur, subsets);
    EXPECT_EQ(subsets.size(), k == 3 ? 10u : (k == 4 ? 5u : 1u));
    for (const auto& subset : subsets) {
      auto parts = Pick(*shares, subset);
      auto got = Combine(parts);
      ASSERT_TRUE(got.has_value());
      EXPECT_TRUE(got->Equals(secret)) << "subset size " << k;
      // Order does not matter.
      std::reverse(parts.begin(), parts.end());
      auto rev = Combine(parts);
      ASSERT_TRUE(rev.has_value());
      EXPECT_TRUE(rev->Equals(secret));
    }
  }
}

TEST(ShamirTest, BelowThresholdDoesNotRecover) {
  SecretBytes secret = Secret();
  auto shares = Split(secret, 5, 3);
  ASSERT_TRUE(shares.has_value());
  std::vector<std::vector<int>> subsets;
  std::vector<int> cur;
  Subsets(5, 2, 0, cur, subsets);
  for (const auto& subset : subsets) {
    auto got = Combine(Pick(*shares, subset));
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(got->Equals(secret));
  }
}

TEST(ShamirTest, TamperedShareGivesDifferentSecret) {
  SecretBytes secret = Secret();
  auto shares = Split(secret, 5, 3);
  ASSERT_TRUE(shares.has_value());
  auto parts = Pick(*shares, {0, 2, 4});
  parts[1].data()[7] ^= 0x40;
  auto got = Combine(parts);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->Equals(secret));
}

TEST(ShamirTest, CombineRejectsBadParts) {
  SecretBytes secret = Secret();
  auto shares = Split(secret, 3, 2);
  ASSERT_TRUE(shares.has_value());

  auto one = Pick(*shares, {0});
  EXPECT_EQ(Combine(one).error().code(), Code::kInvalidArgument);

  auto dup = Pick(*shares, {0, 0});
  EXPECT_EQ(Combine(dup).error().code(), Code::kInvalidArgument);

  // Same x coordinate, different bytes: still a duplicate.
  auto same_x = Pick(*shares, {0, 1});
  same_x[1].data()[32] = same_x[0].data()[32];
  EXPECT_EQ(Combine(same_x).error().code(), Code::kInvalidArgument);

  std::vector<SecretBytes> mismatched;
  mismatched.push_back((*shares)[0].Clone());
  mismatched.push_back(SecretBytes(20));
  mismatched[1].data()[19] = 9;
  EXPECT_EQ(Combine(mismatched).error().code(), Code::kInvalidArgument);
}

TEST(ShamirTest, SplitValidates) {
  SecretBytes secret = Secret();
  EXPECT_EQ(Split(secret, 2, 3).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Split(secret, 256, 3).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Split(secret, 3, 1).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Split(SecretBytes(), 3, 2).error().code(), Code::kInvalidArgument);
  auto max = Split(secret, 255, 255);
  ASSERT_TRUE(max.has_value());
  auto got = Combine(*max);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->Equals(secret));
}

TEST(ShamirTest, SplitsDifferEachTime) {
  SecretBytes secret = Secret();
  auto a = Split(secret, 3, 2);
  auto b = Split(secret, 3, 2);
  ASSERT_TRUE(a.has_value() && b.has_value());
  bool any_differ = false;
  for (std::size_t i = 0; i < 3; ++i) any_differ |= !(*a)[i].Equals((*b)[i]);
  EXPECT_TRUE(any_differ);
}

}  // namespace
}  // namespace coffer::crypto::shamir
