#include "seal/shamir_seal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "storage/inmem/inmem_backend.h"

namespace coffer::seal {
namespace {

class ShamirSealTest : public ::testing::Test {
 protected:
  std::vector<SecretBytes> Init(int shares, int threshold) {
    auto r = seal_.Initialize(shares, threshold);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return std::move(r->shares);
  }

  storage::InmemBackend physical_;
  barrier::AesGcmBarrier barrier_{physical_};
  ShamirSeal seal_{physical_, barrier_};
};

TEST_F(ShamirSealTest, InitializeStoresConfigAndLeavesSealed) {
  EXPECT_FALSE(*seal_.Initialized());
  EXPECT_FALSE(seal_.Config()->has_value());
  auto shares = Init(5, 3);
  ASSERT_EQ(shares.size(), 5u);
  for (const auto& s : shares) EXPECT_EQ(s.size(), 33u);
  EXPECT_TRUE(*seal_.Initialized());
  EXPECT_TRUE(seal_.Sealed());
  auto config = seal_.Config();
  ASSERT_TRUE(config.has_value() && config->has_value());
  EXPECT_EQ((*config)->secret_shares, 5);
  EXPECT_EQ((*config)->secret_threshold, 3);

  auto raw = physical_.Get("core/seal-config");
  ASSERT_TRUE(raw.has_value() && raw->has_value());
  auto j = nlohmann::json::parse((*raw)->value);
  EXPECT_EQ(j["secret_shares"], 5);
  EXPECT_EQ(j["secret_threshold"], 3);
  EXPECT_TRUE(physical_.Get("core/root-key")->has_value());

  EXPECT_EQ(seal_.Initialize(5, 3).error().code(), Code::kAlreadyExists);
  UnsealProgress p = seal_.Progress();
  EXPECT_TRUE(p.sealed);
  EXPECT_EQ(p.threshold, 3);
  EXPECT_EQ(p.shares, 5);
  EXPECT_EQ(p.progress, 0);
  EXPECT_EQ(p.nonce, "");
}

TEST_F(ShamirSealTest, ValidatesParameters) {
  for (auto [n, t] : std::vector<std::pair<int, int>>{
           {0, 0}, {1, 0}, {0, 1}, {3, 1}, {2, 3}, {256, 3}, {5, -1}}) {
    auto r = seal_.Initialize(n, t);
    ASSERT_FALSE(r.has_value()) << n << "/" << t;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << n << "/" << t;
  }
  EXPECT_FALSE(*seal_.Initialized());
}

TEST_F(ShamirSealTest, UnsealWithAnyThreeOfFiveInAnyOrder) {
  auto shares = Init(5, 3);
  int combos = 0;
  for (int a = 0; a < 5; ++a) {
    for (int b = a + 1; b < 5; ++b) {
      for (int c = b + 1; c < 5; ++c) {
        std::vector<int> order{a, b, c};
        do {
          ASSERT_TRUE(seal_.Sealed());
          auto p1 = seal_.SubmitShare(shares[order[0]]);
          ASSERT_TRUE(p1.has_value());
          EXPECT_TRUE(p1->sealed);
          EXPECT_EQ(p1->progress, 1);
          EXPECT_FALSE(p1->nonce.empty());
          auto p2 = seal_.SubmitShare(shares[order[1]]);
          ASSERT_TRUE(p2.has_value());
          EXPECT_EQ(p2->progress, 2);
          EXPECT_EQ(p2->nonce, p1->nonce);
          auto p3 = seal_.SubmitShare(shares[order[2]]);
          ASSERT_TRUE(p3.has_value()) << p3.error().ToString();
          EXPECT_FALSE(p3->sealed);
          EXPECT_EQ(p3->progress, 0);
          EXPECT_EQ(p3->nonce, "");
          EXPECT_FALSE(barrier_.Sealed());
          ASSERT_TRUE(seal_.Seal().ok());
          EXPECT_TRUE(barrier_.Sealed());
        } while (std::next_permutation(order.begin(), order.end()));
        ++combos;
      }
    }
  }
  EXPECT_EQ(combos, 10);
}

TEST_F(ShamirSealTest, FourAndFiveSharesAlsoWorkPastThreshold) {
  auto shares = Init(5, 3);
  // Submitting more than the threshold is not possible: the third unseals.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(seal_.SubmitShare(shares[i]).has_value());
  EXPECT_FALSE(seal_.Sealed());
  auto extra = seal_.SubmitShare(shares[3]);
  ASSERT_TRUE(extra.has_value());
  EXPECT_FALSE(extra->sealed);
}

TEST_F(ShamirSealTest, DuplicateShareRejectedProgressKept) {
  auto shares = Init(5, 3);
  ASSERT_TRUE(seal_.SubmitShare(shares[1]).has_value());
  auto dup = seal_.SubmitShare(shares[1]);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(seal_.Progress().progress, 1);
  ASSERT_TRUE(seal_.SubmitShare(shares[2]).has_value());
  auto done = seal_.SubmitShare(shares[4]);
  ASSERT_TRUE(done.has_value());
  EXPECT_FALSE(done->sealed);
}

TEST_F(ShamirSealTest, WrongShareFailsAndResets) {
  auto shares = Init(5, 3);
  SecretBytes bad = shares[2].Clone();
  bad.data()[5] ^= 0x01;
  ASSERT_TRUE(seal_.SubmitShare(shares[0]).has_value());
  ASSERT_TRUE(seal_.SubmitShare(bad).has_value());
  auto r = seal_.SubmitShare(shares[3]);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "unseal failed: the key shares are invalid");
  EXPECT_TRUE(seal_.Sealed());
  EXPECT_TRUE(barrier_.Sealed());
  UnsealProgress p = seal_.Progress();
  EXPECT_EQ(p.progress, 0);
  EXPECT_EQ(p.nonce, "");
  // A correct attempt afterwards works.
  for (int i : {0, 2, 3}) ASSERT_TRUE(seal_.SubmitShare(shares[i]).has_value());
  EXPECT_FALSE(seal_.Sealed());
}

TEST_F(ShamirSealTest, ShareFromAnotherInitFails) {
  auto shares = Init(3, 2);
  storage::InmemBackend other_physical;
  barrier::AesGcmBarrier other_barrier(other_physical);
  ShamirSeal other(other_physical, other_barrier);
  auto foreign = other.Initialize(3, 2);
  ASSERT_TRUE(foreign.has_value());
  // Pick a foreign share with a different x coordinate so Combine runs.
  const SecretBytes* pick = nullptr;
  for (const auto& s : foreign->shares) {
    if (s.data()[32] != shares[0].data()[32]) pick = &s;
  }
  ASSERT_NE(pick, nullptr);
  ASSERT_TRUE(seal_.SubmitShare(shares[0]).has_value());
  auto r = seal_.SubmitShare(*pick);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(seal_.Sealed());
}

TEST_F(ShamirSealTest, WrongLengthRejected) {
  auto shares = Init(5, 3);
  SecretBytes short_share(32);
  EXPECT_EQ(seal_.SubmitShare(short_share).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(seal_.SubmitShare(SecretBytes(34)).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(seal_.Progress().progress, 0);
}

TEST_F(ShamirSealTest, ResetProgressForgetsShares) {
  auto shares = Init(5, 3);
  ASSERT_TRUE(seal_.SubmitShare(shares[0]).has_value());
  ASSERT_TRUE(seal_.SubmitShare(shares[1]).has_value());
  std::string nonce = seal_.Progress().nonce;
  seal_.ResetProgress();
  EXPECT_EQ(seal_.Progress().progress, 0);
  EXPECT_EQ(seal_.Progress().nonce, "");
  auto p = seal_.SubmitShare(shares[0]);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->progress, 1);
  EXPECT_NE(p->nonce, nonce);
  EXPECT_TRUE(std::regex_match(p->nonce, std::regex("^[0-9a-f-]{36}$")));
}

TEST_F(ShamirSealTest, SingleShareIsTheUnsealKey) {
  auto shares = Init(1, 1);
  ASSERT_EQ(shares.size(), 1u);
  EXPECT_EQ(shares[0].size(), 32u);
  auto p = seal_.SubmitShare(shares[0]);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_FALSE(p->sealed);
  EXPECT_EQ(p->threshold, 1);
  EXPECT_EQ(p->shares, 1);
  ASSERT_TRUE(barrier_.Put("secret/x", "y").ok());
  // The unseal key is not stored anywhere.
  for (const char* key : {"core/seal-config", "core/root-key", "core/keyring", "secret/x"}) {
    auto e = physical_.Get(key);
    ASSERT_TRUE(e.has_value() && e->has_value()) << key;
    EXPECT_EQ((*e)->value.find(shares[0].view()), std::string::npos) << key;
  }
  ASSERT_TRUE(seal_.Seal().ok());
  SecretBytes wrong = shares[0].Clone();
  wrong.data()[0] ^= 1;
  EXPECT_EQ(seal_.SubmitShare(wrong).error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(seal_.Sealed());
}

TEST_F(ShamirSealTest, AlreadyUnsealedReturnsUnsealedProgress) {
  auto shares = Init(3, 2);
  ASSERT_TRUE(seal_.SubmitShare(shares[0]).has_value());
  ASSERT_TRUE(seal_.SubmitShare(shares[1]).has_value());
  auto p = seal_.SubmitShare(shares[2]);
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->sealed);
  EXPECT_EQ(p->progress, 0);
}

TEST_F(ShamirSealTest, NotInitialized) {
  SecretBytes share(33);
  EXPECT_EQ(seal_.SubmitShare(share).error().code(), Code::kInvalidArgument);
  UnsealProgress p = seal_.Progress();
  EXPECT_TRUE(p.sealed);
  EXPECT_EQ(p.threshold, 0);
}

TEST_F(ShamirSealTest, SurvivesRestart) {
  auto shares = Init(5, 3);
  for (int i : {4, 0, 2}) ASSERT_TRUE(seal_.SubmitShare(shares[i]).has_value());
  ASSERT_TRUE(barrier_.Put("secret/persist", "kept").ok());
  ASSERT_TRUE(seal_.Seal().ok());

  barrier::AesGcmBarrier barrier2(physical_);
  ShamirSeal seal2(physical_, barrier2);
  EXPECT_TRUE(*seal2.Initialized());
  EXPECT_EQ(seal2.Progress().threshold, 3);
  for (int i : {1, 3, 4}) ASSERT_TRUE(seal2.SubmitShare(shares[i]).has_value());
  EXPECT_FALSE(seal2.Sealed());
  EXPECT_EQ((*barrier2.Get("secret/persist"))->value, "kept");
}

TEST_F(ShamirSealTest, ConcurrentSubmissionsUnsealOnce) {
  auto shares = Init(5, 3);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      if (!seal_.SubmitShare(shares[i]).has_value()) failures++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(seal_.Sealed());
}

}  // namespace
}  // namespace coffer::seal
