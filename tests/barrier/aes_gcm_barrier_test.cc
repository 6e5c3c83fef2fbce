#include "barrier/aes_gcm_barrier.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>

#include "barrier/ciphertext.h"
#include "crypto/random.h"
#include "storage/inmem/inmem_backend.h"

namespace coffer::barrier {
namespace {

SecretBytes NewKey() { return std::move(crypto::RandomSecret(32).value()); }

// Every key in a backend, depth first.
std::vector<std::string> AllKeys(storage::Backend& b, const std::string& prefix = "") {
  std::vector<std::string> out;
  auto names = b.List(prefix);
  EXPECT_TRUE(names.has_value());
  for (const std::string& name : *names) {
    if (name.back() == '/') {
      auto sub = AllKeys(b, prefix + name);
      out.insert(out.end(), sub.begin(), sub.end());
    } else {
      out.push_back(prefix + name);
    }
  }
  return out;
}

std::uint32_t TermOf(const std::string& ct) {
  auto b = [&](int i) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(ct[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

class BarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = NewKey();
    ASSERT_TRUE(barrier_.Initialize(root_).ok());
    ASSERT_TRUE(barrier_.Sealed());
    ASSERT_TRUE(barrier_.Unseal(root_).ok());
    ASSERT_FALSE(barrier_.Sealed());
  }

  std::string Raw(std::string_view key) {
    auto e = physical_.Get(key);
    EXPECT_TRUE(e.has_value() && e->has_value());
    return (*e)->value;
  }

  storage::InmemBackend physical_;
  FakeClock clock_;
  AesGcmBarrier barrier_{physical_, clock_};
  SecretBytes root_;
};

TEST_F(BarrierTest, RoundTripAndFormat) {
  ASSERT_TRUE(barrier_.Put("secret/a", "hello world").ok());
  auto got = barrier_.Get("secret/a");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->value, "hello world");
  EXPECT_NE((*got)->revision, 0u);

  std::string raw = Raw("secret/a");
  ASSERT_EQ(raw.size(), 4 + 1 + 12 + 11 + 16u);
  EXPECT_EQ(TermOf(raw), 1u);
  EXPECT_EQ(raw[4], 1);  // version

  auto missing = barrier_.Get("secret/none");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(BarrierTest, PhysicalNeverSeesPlaintext) {
  const std::string canary = "CANARY-7f3e9c1d-do-not-store";
  ASSERT_TRUE(barrier_.Put("secret/one", canary).ok());
  ASSERT_TRUE(barrier_.Put("secret/deep/two", "prefix " + canary + " suffix").ok());
  storage::Op op{storage::Op::Kind::kPut, "secret/three", canary};
  ASSERT_TRUE(barrier_.Transact({}, {&op, 1}).ok());
  ASSERT_TRUE(barrier_.Rotate().ok());
  ASSERT_TRUE(barrier_.Put("secret/four", canary).ok());
  barrier_.Seal();

  std::vector<std::string> keys = AllKeys(physical_);
  EXPECT_GE(keys.size(), 5u);  // four values + keyring
  for (const std::string& key : keys) {
    EXPECT_EQ(Raw(key).find(canary), std::string::npos) << key;
    EXPECT_EQ(Raw(key).find("CANARY"), std::string::npos) << key;
  }
}

TEST_F(BarrierTest, FlippedByteFailsWithoutPlaintext) {
  ASSERT_TRUE(barrier_.Put("secret/a", "sensitive-value").ok());
  std::string raw = Raw("secret/a");
  // Every byte after the term: version, nonce, ciphertext and tag.
  for (std::size_t i = 4; i < raw.size(); ++i) {
    std::string bad = raw;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    ASSERT_TRUE(physical_.Put("secret/a", bad).ok());
    auto got = barrier_.Get("secret/a");
    ASSERT_FALSE(got.has_value()) << "byte " << i;
    EXPECT_EQ(got.error().code(), Code::kInternal);
    EXPECT_EQ(got.error().message().find("sensitive"), std::string::npos);
  }
  // Term byte flipped: no such term.
  std::string bad = raw;
  bad[3] = static_cast<char>(bad[3] ^ 0x02);
  ASSERT_TRUE(physical_.Put("secret/a", bad).ok());
  auto got = barrier_.Get("secret/a");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kInternal);
  // Truncated.
  ASSERT_TRUE(physical_.Put("secret/a", raw.substr(0, 20)).ok());
  EXPECT_EQ(barrier_.Get("secret/a").error().code(), Code::kInternal);
}

TEST_F(BarrierTest, TamperMessageIsFailedToDecrypt) {
  ASSERT_TRUE(barrier_.Put("secret/a", "v").ok());
  std::string raw = Raw("secret/a");
  raw.back() = static_cast<char>(raw.back() ^ 1);
  ASSERT_TRUE(physical_.Put("secret/a", raw).ok());
  auto got = barrier_.Get("secret/a");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kInternal);
  EXPECT_EQ(got.error().message(), "failed to decrypt");
}

TEST_F(BarrierTest, CiphertextCopiedToAnotherKeyFails) {
  ASSERT_TRUE(barrier_.Put("secret/a", "value-a").ok());
  ASSERT_TRUE(physical_.Put("secret/b", Raw("secret/a")).ok());
  auto got = barrier_.Get("secret/b");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kInternal);
  // The original still reads.
  EXPECT_EQ((*barrier_.Get("secret/a"))->value, "value-a");
}

TEST_F(BarrierTest, SameValueEncryptsDifferently) {
  ASSERT_TRUE(barrier_.Put("secret/a", "same").ok());
  std::string first = Raw("secret/a");
  ASSERT_TRUE(barrier_.Put("secret/a", "same").ok());
  std::string second = Raw("secret/a");
  EXPECT_NE(first, second);
  EXPECT_NE(first.substr(5, 12), second.substr(5, 12));  // nonces
}

TEST_F(BarrierTest, RotateKeepsOldTermsReadable) {
  ASSERT_TRUE(barrier_.Put("k/old", "written under term 1").ok());
  auto before = barrier_.GetKeyStatus();
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->term, 1u);
  EXPECT_EQ(before->encryptions, 1u);

  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(barrier_.Rotate().ok());
  ASSERT_TRUE(barrier_.Put("k/new", "written under term 2").ok());
  ASSERT_TRUE(barrier_.Rotate().ok());
  ASSERT_TRUE(barrier_.Put("k/newer", "written under term 3").ok());

  EXPECT_EQ(TermOf(Raw("k/old")), 1u);
  EXPECT_EQ(TermOf(Raw("k/new")), 2u);
  EXPECT_EQ(TermOf(Raw("k/newer")), 3u);
  EXPECT_EQ((*barrier_.Get("k/old"))->value, "written under term 1");
  EXPECT_EQ((*barrier_.Get("k/new"))->value, "written under term 2");
  EXPECT_EQ((*barrier_.Get("k/newer"))->value, "written under term 3");

  auto after = barrier_.GetKeyStatus();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->term, 3u);
  EXPECT_EQ(after->encryptions, 1u);
  EXPECT_EQ(after->install_time, clock_.Wall());
  EXPECT_GT(after->install_time, before->install_time);
}

TEST_F(BarrierTest, KeyStatusCountsEncryptions) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(barrier_.Put("k/" + std::to_string(i), "v").ok());
  storage::Op ops[2] = {{storage::Op::Kind::kPut, "t/a", "x"},
                        {storage::Op::Kind::kDelete, "k/0", ""}};
  ASSERT_TRUE(barrier_.Transact({}, ops).ok());
  // Reads, lists and deletes do not encrypt.
  ASSERT_TRUE(barrier_.Get("k/1").has_value());
  ASSERT_TRUE(barrier_.Delete("k/1").ok());
  ASSERT_TRUE(barrier_.List("k/").has_value());
  auto status = barrier_.GetKeyStatus();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->term, 1u);
  EXPECT_EQ(status->encryptions, 8u);
}

TEST_F(BarrierTest, AutomaticRotationAtMaxOperations) {
  RotationConfig config;
  config.max_operations = 5;
  ASSERT_TRUE(barrier_.SetRotationConfig(config).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(barrier_.Put("k/" + std::to_string(i), "v").ok());
  EXPECT_EQ(barrier_.GetKeyStatus()->term, 1u);
  EXPECT_EQ(barrier_.GetKeyStatus()->encryptions, 5u);
  ASSERT_TRUE(barrier_.Put("k/5", "v").ok());
  EXPECT_EQ(barrier_.GetKeyStatus()->term, 2u);
  EXPECT_EQ(barrier_.GetKeyStatus()->encryptions, 1u);
  EXPECT_EQ(TermOf(Raw("k/4")), 1u);
  EXPECT_EQ(TermOf(Raw("k/5")), 2u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ((*barrier_.Get("k/" + std::to_string(i)))->value, "v");
  }
  // The configuration survived the rotation.
  EXPECT_EQ(barrier_.GetRotationConfig()->max_operations, 5u);
}

TEST_F(BarrierTest, AutomaticRotationUnderConcurrentWrites) {
  RotationConfig config;
  config.max_operations = 50;
  ASSERT_TRUE(barrier_.SetRotationConfig(config).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(barrier_.Put("c/" + std::to_string(t) + "-" + std::to_string(i), "v").ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  // 400 writes at <= 50 per term: at least 8 terms, and each rotation was
  // done once (not once per racing writer), so not wildly more.
  auto status = barrier_.GetKeyStatus();
  ASSERT_TRUE(status.has_value());
  EXPECT_GE(status->term, 8u);
  EXPECT_LE(status->term, 12u);
  std::map<std::uint32_t, int> per_term;
  for (const std::string& key : AllKeys(physical_, "c/")) {
    per_term[TermOf(Raw(key))]++;
    EXPECT_EQ((*barrier_.Get(key))->value, "v");
  }
  for (auto [term, n] : per_term) EXPECT_LE(n, 50) << "term " << term;
}

TEST_F(BarrierTest, AutomaticRotationByInterval) {
  RotationConfig config;
  config.interval = std::chrono::hours(24);
  ASSERT_TRUE(barrier_.SetRotationConfig(config).ok());
  ASSERT_TRUE(barrier_.Put("k/a", "v").ok());
  clock_.Advance(std::chrono::hours(23));
  ASSERT_TRUE(barrier_.Put("k/b", "v").ok());
  EXPECT_EQ(barrier_.GetKeyStatus()->term, 1u);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(barrier_.Put("k/c", "v").ok());
  EXPECT_EQ(barrier_.GetKeyStatus()->term, 2u);
  EXPECT_EQ(TermOf(Raw("k/c")), 2u);
}

TEST_F(BarrierTest, DisabledRotationDoesNotRotate) {
  RotationConfig config;
  config.max_operations = 2;
  config.disabled = true;
  ASSERT_TRUE(barrier_.SetRotationConfig(config).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(barrier_.Put("k/x", "v").ok());
  EXPECT_EQ(barrier_.GetKeyStatus()->term, 1u);
  RotationConfig bad;
  bad.max_operations = 0;
  EXPECT_EQ(barrier_.SetRotationConfig(bad).code(), Code::kInvalidArgument);
}

TEST_F(BarrierTest, SealedRefusesEverything) {
  ASSERT_TRUE(barrier_.Put("k/a", "v").ok());
  barrier_.Seal();
  EXPECT_TRUE(barrier_.Sealed());
  EXPECT_EQ(barrier_.Get("k/a").error().code(), Code::kSealed);
  EXPECT_EQ(barrier_.Put("k/a", "v").code(), Code::kSealed);
  EXPECT_EQ(barrier_.Delete("k/a").code(), Code::kSealed);
  EXPECT_EQ(barrier_.List("k/").error().code(), Code::kSealed);
  EXPECT_EQ(barrier_.Transact({}, {}).code(), Code::kSealed);
  EXPECT_EQ(barrier_.Rotate().code(), Code::kSealed);
  EXPECT_EQ(barrier_.GetKeyStatus().error().code(), Code::kSealed);
  EXPECT_EQ(barrier_.GetRotationConfig().error().code(), Code::kSealed);
  ASSERT_TRUE(barrier_.Unseal(root_).ok());
  EXPECT_EQ((*barrier_.Get("k/a"))->value, "v");
}

TEST_F(BarrierTest, WrongRootKeyStaysSealed) {
  barrier_.Seal();
  std::string keyring_before = Raw("core/keyring");
  SecretBytes wrong = NewKey();
  Status st = barrier_.Unseal(wrong);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(), "failed to decrypt keyring");
  EXPECT_TRUE(barrier_.Sealed());
  EXPECT_EQ(Raw("core/keyring"), keyring_before);
  EXPECT_EQ(barrier_.Unseal(SecretBytes(16)).code(), Code::kInvalidArgument);
  EXPECT_TRUE(barrier_.Sealed());
  ASSERT_TRUE(barrier_.Unseal(root_).ok());
  EXPECT_FALSE(barrier_.Sealed());
}

TEST_F(BarrierTest, InitializeTwiceFails) {
  EXPECT_EQ(barrier_.Initialize(NewKey()).code(), Code::kAlreadyExists);
  EXPECT_TRUE(*barrier_.Initialized());
  storage::InmemBackend empty;
  AesGcmBarrier fresh(empty, clock_);
  EXPECT_FALSE(*fresh.Initialized());
  EXPECT_EQ(fresh.Unseal(root_).code(), Code::kInvalidArgument);
}

TEST_F(BarrierTest, KeyringIsReservedAndOpaque) {
  EXPECT_EQ(barrier_.Put("core/keyring", "x").code(), Code::kInvalidArgument);
  EXPECT_EQ(barrier_.Delete("core/keyring").code(), Code::kInvalidArgument);
  std::string raw = Raw("core/keyring");
  EXPECT_EQ(TermOf(raw), 0u);
  EXPECT_EQ(raw[4], 1);
  // Its plaintext does not contain the data key.
  EXPECT_FALSE(DecryptValue(NewKey(), raw, "core/keyring").has_value());
  EXPECT_TRUE(DecryptValue(root_, raw, "core/keyring").has_value());
}

TEST_F(BarrierTest, KeyringSurvivesNewBarrierObject) {
  ASSERT_TRUE(barrier_.Put("k/one", "term-1 value").ok());
  ASSERT_TRUE(barrier_.Rotate().ok());
  ASSERT_TRUE(barrier_.Put("k/two", "term-2 value").ok());
  RotationConfig config;
  config.max_operations = 1234;
  config.interval = std::chrono::seconds(86400);
  ASSERT_TRUE(barrier_.SetRotationConfig(config).ok());
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(barrier_.Put("k/n", "v").ok());
  barrier_.Seal();  // persists the count

  AesGcmBarrier second(physical_, clock_);
  EXPECT_TRUE(*second.Initialized());
  EXPECT_TRUE(second.Sealed());
  ASSERT_TRUE(second.Unseal(root_).ok());
  EXPECT_EQ((*second.Get("k/one"))->value, "term-1 value");
  EXPECT_EQ((*second.Get("k/two"))->value, "term-2 value");
  auto status = second.GetKeyStatus();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->term, 2u);
  EXPECT_EQ(status->encryptions, 10u);
  auto rc = second.GetRotationConfig();
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(rc->max_operations, 1234u);
  EXPECT_EQ(rc->interval, std::chrono::seconds(86400));
  EXPECT_FALSE(rc->disabled);
  ASSERT_TRUE(second.Put("k/three", "v").ok());
  EXPECT_EQ(TermOf(Raw("k/three")), 2u);
}

TEST_F(BarrierTest, CountPersistedPeriodicallyWithoutSeal) {
  for (std::uint64_t i = 0; i < AesGcmBarrier::kPersistEvery + 5; ++i) {
    ASSERT_TRUE(barrier_.Put("k/a", "v").ok());
  }
  // A second object reads what was persisted without a Seal (as after a crash).
  AesGcmBarrier second(physical_, clock_);
  ASSERT_TRUE(second.Unseal(root_).ok());
  EXPECT_EQ(second.GetKeyStatus()->encryptions, AesGcmBarrier::kPersistEvery);
}

TEST_F(BarrierTest, UnknownTermIsInternal) {
  ASSERT_TRUE(barrier_.Rotate().ok());
  ASSERT_TRUE(barrier_.Put("k/a", "v").ok());
  std::string raw = Raw("k/a");
  raw[3] = 9;  // term 9 does not exist
  ASSERT_TRUE(physical_.Put("k/a", raw).ok());
  auto got = barrier_.Get("k/a");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kInternal);
}

TEST_F(BarrierTest, TransactEncryptsAndChecksRevisions) {
  ASSERT_TRUE(barrier_.Put("t/a", "1").ok());
  auto entry = barrier_.Get("t/a");
  ASSERT_TRUE(entry.has_value() && entry->has_value());
  storage::Compare stale{"t/a", (*entry)->revision + 100};
  storage::Op op{storage::Op::Kind::kPut, "t/a", "2"};
  EXPECT_EQ(barrier_.Transact({&stale, 1}, {&op, 1}).code(), Code::kConflict);
  storage::Compare fresh{"t/a", (*entry)->revision};
  ASSERT_TRUE(barrier_.Transact({&fresh, 1}, {&op, 1}).ok());
  EXPECT_EQ((*barrier_.Get("t/a"))->value, "2");
  EXPECT_EQ(Raw("t/a").size(), kCiphertextOverhead + 1);
}

// A transaction draws the nonces of all its values in one DRBG call; each
// value must still get a nonce of its own.
TEST_F(BarrierTest, TransactGivesEveryValueItsOwnNonce) {
  std::vector<storage::Op> ops;
  for (int i = 0; i < 6; ++i) {
    ops.push_back({storage::Op::Kind::kPut, "t/" + std::to_string(i), "same"});
  }
  ops.push_back({storage::Op::Kind::kDelete, "t/none", ""});
  ASSERT_TRUE(barrier_.Transact({}, ops).ok());
  std::set<std::string> nonces;
  for (int i = 0; i < 6; ++i) {
    const std::string key = "t/" + std::to_string(i);
    EXPECT_EQ((*barrier_.Get(key))->value, "same");
    nonces.insert(Raw(key).substr(kHeaderSize, 12));
  }
  EXPECT_EQ(nonces.size(), 6u);
}

TEST_F(BarrierTest, ListPassesThrough) {
  ASSERT_TRUE(barrier_.Put("l/a", "1").ok());
  ASSERT_TRUE(barrier_.Put("l/b/c", "2").ok());
  auto names = barrier_.List("l/");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b/"}));
}

}  // namespace
}  // namespace coffer::barrier
