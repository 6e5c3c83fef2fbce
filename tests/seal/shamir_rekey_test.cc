// ShamirSeal's rekey: the root key is kept, old shares stop working, new ones
// work, a wrong share fails the attempt, and the commit is one Transact.

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "seal/shamir_seal.h"
#include "storage/forwarding_backend.h"

namespace coffer::seal {
namespace {

// Delegates to an in-memory backend; records how seal keys are written and
// can make the next Transact fail (before or after applying it: a commit
// whose answer is lost).
class RecordingBackend final : public storage::test_util::ForwardingBackend {
 public:
  enum class Fail { kNone, kBefore, kAfter };

  Status Put(std::string_view key, std::string_view value) override {
    if (key.starts_with("core/seal-config") || key.starts_with("core/root-key")) ++seal_puts;
    return ForwardingBackend::Put(key, value);
  }
  Status Transact(std::span<const storage::Compare> compares,
                  std::span<const storage::Op> ops) override {
    ++transacts;
    last_ops.clear();
    for (const auto& op : ops) last_ops.push_back(op.key);
    Fail f = fail.exchange(Fail::kNone);
    if (f == Fail::kBefore) return Unavailable("injected: storage unreachable");
    Status st = ForwardingBackend::Transact(compares, ops);
    if (f == Fail::kAfter) return Unavailable("injected: answer lost");
    return st;
  }
  std::string_view Type() const override { return "recording"; }

  std::atomic<Fail> fail{Fail::kNone};
  int seal_puts = 0;
  int transacts = 0;
  std::vector<std::string> last_ops;
};

class ShamirRekeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = seal_.Initialize(5, 3);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    shares_ = std::move(r->shares);
    Unseal(seal_, shares_, {0, 1, 2});
    ASSERT_FALSE(seal_.Sealed());
    ASSERT_TRUE(barrier_.Put("secret/kept", "value").ok());
    physical_.seal_puts = 0;
    physical_.transacts = 0;
  }

  static void Unseal(ShamirSeal& seal, const std::vector<SecretBytes>& shares,
                     std::initializer_list<int> which) {
    for (int i : which) {
      auto p = seal.SubmitShare(shares[static_cast<std::size_t>(i)]);
      ASSERT_TRUE(p.has_value()) << p.error().ToString();
    }
  }

  // Runs a whole rekey with current shares `which`; returns the new shares.
  std::vector<SecretBytes> Rekey(int n, int t, std::initializer_list<int> which) {
    auto st = seal_.RekeyInit(n, t, false);
    EXPECT_TRUE(st.has_value()) << st.error().ToString();
    if (!st.has_value()) return {};
    Result<RekeyUpdateResult> r;
    for (int i : which) {
      r = seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
      EXPECT_TRUE(r.has_value()) << r.error().ToString();
      if (!r.has_value()) return {};
    }
    EXPECT_TRUE(r->complete);
    return std::move(r->shares);
  }

  // A fresh seal on the same storage (a restart) and whether `shares` unseal it.
  bool UnsealsAfterRestart(const std::vector<SecretBytes>& shares, int threshold) {
    barrier::AesGcmBarrier barrier(physical_);
    ShamirSeal seal(physical_, barrier);
    for (int i = 0; i < threshold; ++i) {
      auto p = seal.SubmitShare(shares[static_cast<std::size_t>(i)]);
      if (!p.has_value()) return false;
    }
    if (seal.Sealed()) return false;
    auto kept = barrier.Get("secret/kept");
    return kept.has_value() && kept->has_value() && (*kept)->value == "value";
  }

  RecordingBackend physical_;
  barrier::AesGcmBarrier barrier_{physical_};
  ShamirSeal seal_{physical_, barrier_};
  std::vector<SecretBytes> shares_;
};

TEST_F(ShamirRekeyTest, NewSharesReplaceOldAndKeepTheRootKey) {
  RekeyStatus idle = *seal_.RekeyProgress();
  EXPECT_FALSE(idle.started);
  EXPECT_EQ(idle.required, 3);

  auto st = seal_.RekeyInit(3, 2, false);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->started);
  EXPECT_EQ(st->nonce.size(), 36u);
  EXPECT_EQ(st->shares, 3);
  EXPECT_EQ(st->threshold, 2);
  EXPECT_EQ(st->required, 3);
  for (int i : {4, 1}) {
    auto r = seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->complete);
    EXPECT_TRUE(r->shares.empty());
  }
  EXPECT_EQ(seal_.RekeyProgress()->progress, 2);
  auto done = seal_.RekeyUpdate(shares_[2], st->nonce);
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  ASSERT_TRUE(done->complete);
  ASSERT_EQ(done->shares.size(), 3u);
  for (const auto& s : done->shares) {
    EXPECT_EQ(s.size(), 33u);
    for (const auto& old : shares_) EXPECT_FALSE(s.Equals(old));
  }
  EXPECT_EQ(done->status.nonce, st->nonce);
  EXPECT_FALSE(seal_.RekeyProgress()->started);
  EXPECT_EQ(seal_.RekeyProgress()->required, 2);
  EXPECT_EQ((*seal_.Config())->secret_shares, 3);

  // One Transact with both keys; nothing written with a plain Put.
  EXPECT_EQ(physical_.transacts, 1);
  EXPECT_EQ(physical_.seal_puts, 0);
  EXPECT_EQ(physical_.last_ops, (std::vector<std::string>{"core/root-key", "core/seal-config"}));
  auto raw = physical_.Get("core/seal-config");
  auto j = nlohmann::json::parse((*raw)->value);
  EXPECT_EQ(j["secret_shares"], 3);
  EXPECT_EQ(j["secret_threshold"], 2);

  // Still unsealed; after a seal only the new shares work and the data
  // (encrypted under the unchanged root key's keyring) reads back.
  EXPECT_FALSE(seal_.Sealed());
  ASSERT_TRUE(seal_.Seal().ok());
  ASSERT_TRUE(seal_.SubmitShare(shares_[0]).has_value());
  auto old = seal_.SubmitShare(shares_[1]);  // the new threshold is 2
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(seal_.Sealed());
  seal_.ResetProgress();
  Unseal(seal_, done->shares, {2, 0});
  EXPECT_FALSE(seal_.Sealed());
  EXPECT_EQ((*barrier_.Get("secret/kept"))->value, "value");
  EXPECT_FALSE(UnsealsAfterRestart(shares_, 3));
  EXPECT_TRUE(UnsealsAfterRestart(done->shares, 2));
}

TEST_F(ShamirRekeyTest, ToAndFromASingleShare) {
  auto one = Rekey(1, 1, {0, 1, 2});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].size(), 32u);  // the unseal key itself
  EXPECT_TRUE(UnsealsAfterRestart(one, 1));
  shares_ = std::move(one);
  auto back = Rekey(4, 2, {0});
  ASSERT_EQ(back.size(), 4u);
  EXPECT_FALSE(UnsealsAfterRestart(shares_, 1));
  EXPECT_TRUE(UnsealsAfterRestart(back, 2));
}

TEST_F(ShamirRekeyTest, WrongShareFailsTheAttemptAndResetsProgress) {
  auto st = seal_.RekeyInit(3, 2, false);
  ASSERT_TRUE(st.has_value());
  SecretBytes bad = shares_[2].Clone();
  bad.data()[7] ^= 0x40;
  ASSERT_TRUE(seal_.RekeyUpdate(shares_[0], st->nonce).has_value());
  ASSERT_TRUE(seal_.RekeyUpdate(shares_[1], st->nonce).has_value());
  auto r = seal_.RekeyUpdate(bad, st->nonce);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "rekey failed: the key shares are invalid");
  RekeyStatus after = *seal_.RekeyProgress();
  EXPECT_TRUE(after.started);
  EXPECT_EQ(after.progress, 0);
  EXPECT_EQ(after.nonce, st->nonce);
  EXPECT_EQ(physical_.transacts, 0);
  EXPECT_TRUE(UnsealsAfterRestart(shares_, 3));
  // The same attempt then completes with good shares.
  for (int i : {0, 1})
    ASSERT_TRUE(seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce).has_value());
  auto done = seal_.RekeyUpdate(shares_[3], st->nonce);
  ASSERT_TRUE(done.has_value() && done->complete);
}

TEST_F(ShamirRekeyTest, Refusals) {
  EXPECT_EQ(seal_.RekeyUpdate(shares_[0], "x").error().message(), "no rekey in progress");
  for (auto [n, t] : std::vector<std::pair<int, int>>{{0, 0}, {3, 1}, {2, 3}, {256, 2}}) {
    EXPECT_EQ(seal_.RekeyInit(n, t, false).error().code(), Code::kInvalidArgument);
  }
  auto st = seal_.RekeyInit(3, 2, false);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(seal_.RekeyInit(3, 2, false).error().message(), "rekey already in progress");
  EXPECT_EQ(seal_.RekeyUpdate(shares_[0], "wrong").error().message(), "incorrect nonce");
  EXPECT_EQ(seal_.RekeyUpdate(shares_[0], "").error().message(), "incorrect nonce");
  EXPECT_EQ(seal_.RekeyUpdate(SecretBytes(32), st->nonce).error().code(), Code::kInvalidArgument);
  ASSERT_TRUE(seal_.RekeyUpdate(shares_[0], st->nonce).has_value());
  EXPECT_EQ(seal_.RekeyUpdate(shares_[0], st->nonce).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(seal_.RekeyProgress()->progress, 1);
  EXPECT_EQ(seal_.RekeyVerifyUpdate(shares_[0], st->nonce).error().message(),
            "no rekey verification in progress");

  // Cancel forgets it; a new attempt has a new nonce.
  ASSERT_TRUE(seal_.RekeyCancel().ok());
  EXPECT_FALSE(seal_.RekeyProgress()->started);
  auto again = seal_.RekeyInit(2, 2, false);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->nonce, st->nonce);
  EXPECT_EQ(again->progress, 0);

  // Sealing cancels; everything answers kSealed while sealed.
  ASSERT_TRUE(seal_.Seal().ok());
  EXPECT_EQ(seal_.RekeyProgress().error().code(), Code::kSealed);
  EXPECT_EQ(seal_.RekeyInit(3, 2, false).error().code(), Code::kSealed);
  EXPECT_EQ(seal_.RekeyUpdate(shares_[0], again->nonce).error().code(), Code::kSealed);
  Unseal(seal_, shares_, {0, 1, 2});
  EXPECT_FALSE(seal_.RekeyProgress()->started);
}

TEST_F(ShamirRekeyTest, FailedCommitKeepsTheOldShares) {
  physical_.fail = RecordingBackend::Fail::kBefore;
  auto st = seal_.RekeyInit(3, 2, false);
  ASSERT_TRUE(st.has_value());
  Result<RekeyUpdateResult> r;
  for (int i : {0, 1, 2}) r = seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(physical_.transacts, 1);
  EXPECT_EQ((*seal_.Config())->secret_shares, 5);
  EXPECT_TRUE(UnsealsAfterRestart(shares_, 3));
  // The attempt stays, progress reset; it can be completed.
  EXPECT_EQ(seal_.RekeyProgress()->progress, 0);
  for (int i : {2, 3})
    ASSERT_TRUE(seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce).has_value());
  auto done = seal_.RekeyUpdate(shares_[4], st->nonce);
  ASSERT_TRUE(done.has_value() && done->complete);
  EXPECT_TRUE(UnsealsAfterRestart(done->shares, 2));
}

TEST_F(ShamirRekeyTest, RootKeyChangedUnderTheAttemptIsRefused) {
  // With verification the root key is read at the update and written at the
  // verification; another writer in between (another node's rekey) wins.
  auto st = seal_.RekeyInit(3, 2, true);
  ASSERT_TRUE(st.has_value());
  Result<RekeyUpdateResult> r;
  for (int i : {0, 1, 2}) r = seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
  ASSERT_TRUE(r.has_value() && r->complete);
  auto before = physical_.Get("core/root-key");
  ASSERT_TRUE(physical_.Put("core/root-key", (*before)->value).ok());
  Result<RekeyVerifyResult> v;
  for (int i : {0, 1}) {
    v = seal_.RekeyVerifyUpdate(r->shares[static_cast<std::size_t>(i)],
                                r->status.verification_nonce);
  }
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), Code::kConflict);
  EXPECT_TRUE(UnsealsAfterRestart(shares_, 3));
  EXPECT_FALSE(UnsealsAfterRestart(r->shares, 2));
}

TEST_F(ShamirRekeyTest, VerificationKeepsOldSharesUntilVerified) {
  auto st = seal_.RekeyInit(4, 3, true);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->verification_required);
  Result<RekeyUpdateResult> r;
  for (int i : {0, 1, 2}) r = seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
  ASSERT_TRUE(r.has_value() && r->complete);
  ASSERT_EQ(r->shares.size(), 4u);
  std::string vnonce = r->status.verification_nonce;
  EXPECT_EQ(vnonce.size(), 36u);
  EXPECT_NE(vnonce, st->nonce);
  EXPECT_EQ(physical_.transacts, 0);  // nothing active yet
  EXPECT_TRUE(UnsealsAfterRestart(shares_, 3));
  EXPECT_EQ(seal_.RekeyUpdate(shares_[3], st->nonce).error().code(), Code::kInvalidArgument);

  RekeyVerifyStatus v = *seal_.RekeyVerifyProgress();
  EXPECT_TRUE(v.started);
  EXPECT_EQ(v.nonce, vnonce);
  EXPECT_EQ(v.threshold, 3);
  EXPECT_EQ(seal_.RekeyVerifyUpdate(r->shares[0], st->nonce).error().message(), "incorrect nonce");
  // Old shares mixed in rebuild another key: verification fails, progress resets.
  ASSERT_TRUE(seal_.RekeyVerifyUpdate(r->shares[0], vnonce).has_value());
  ASSERT_TRUE(seal_.RekeyVerifyUpdate(shares_[0], vnonce).has_value());
  auto bad = seal_.RekeyVerifyUpdate(shares_[1], vnonce);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "rekey verification failed: the key shares are invalid");
  EXPECT_EQ(seal_.RekeyVerifyProgress()->progress, 0);
  EXPECT_EQ(physical_.transacts, 0);
  // The failure drew a new nonce, as in Vault: the old one is refused.
  const std::string after_failure = seal_.RekeyVerifyProgress()->nonce;
  EXPECT_NE(after_failure, vnonce);
  EXPECT_EQ(seal_.RekeyVerifyUpdate(r->shares[0], vnonce).error().message(), "incorrect nonce");
  vnonce = after_failure;

  // Cancel of the verification: new nonce, the attempt stays.
  auto cancelled = seal_.RekeyVerifyCancel();
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_NE(cancelled->nonce, vnonce);
  EXPECT_EQ(seal_.RekeyVerifyUpdate(r->shares[1], vnonce).error().message(), "incorrect nonce");

  Result<RekeyVerifyResult> ok;
  for (int i : {3, 1, 2}) {
    ok = seal_.RekeyVerifyUpdate(r->shares[static_cast<std::size_t>(i)], cancelled->nonce);
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  }
  EXPECT_TRUE(ok->complete);
  EXPECT_EQ(physical_.transacts, 1);
  EXPECT_FALSE(seal_.RekeyProgress()->started);
  EXPECT_FALSE(UnsealsAfterRestart(shares_, 3));
  EXPECT_TRUE(UnsealsAfterRestart(r->shares, 3));
}

TEST_F(ShamirRekeyTest, CommitThatAppliedButFailedLeavesTheNewSharesPending) {
  // With verification the client holds the new shares before the commit, so
  // a commit whose answer is lost (applied, error returned) still leaves a
  // set of shares that someone has and that unseals.
  auto st = seal_.RekeyInit(3, 2, true);
  Result<RekeyUpdateResult> r;
  for (int i : {0, 1, 2}) r = seal_.RekeyUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
  ASSERT_TRUE(r.has_value() && r->complete);
  physical_.fail = RecordingBackend::Fail::kAfter;
  Result<RekeyVerifyResult> v;
  for (int i : {0, 1})
    v = seal_.RekeyVerifyUpdate(r->shares[static_cast<std::size_t>(i)],
                                r->status.verification_nonce);
  ASSERT_FALSE(v.has_value());
  EXPECT_TRUE(UnsealsAfterRestart(r->shares, 2));
}

TEST_F(ShamirRekeyTest, AnotherSealOnTheSameStorageSeesTheRekey) {
  // A second process on the same storage (a standby) that read the config
  // before the rekey unseals with the new shares afterwards.
  barrier::AesGcmBarrier other_barrier(physical_);
  ShamirSeal other(physical_, other_barrier);
  EXPECT_EQ(other.Progress().threshold, 3);  // cached now
  auto fresh = Rekey(2, 2, {0, 1, 2});
  ASSERT_EQ(fresh.size(), 2u);
  for (const auto& s : fresh) ASSERT_TRUE(other.SubmitShare(s).has_value());
  EXPECT_FALSE(other.Sealed());
}

// Generate-root: a threshold of current shares that open the root key ends
// the attempt and hands back its pad; others fail and reset the progress;
// nothing is written; sealing cancels.
TEST_F(ShamirRekeyTest, GenerateRootChecksTheSharesAndReturnsThePad) {
  EXPECT_FALSE(seal_.GenerateRootProgress()->started);
  auto st = seal_.GenerateRootInit(SecretBytes::FromString("pad-pad-pad"));
  ASSERT_TRUE(st.has_value()) << st.error().ToString();
  EXPECT_TRUE(st->started);
  EXPECT_EQ(st->required, 3);
  EXPECT_EQ(seal_.GenerateRootInit(SecretBytes::FromString("x")).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(seal_.GenerateRootUpdate(shares_[0], "other").error().message(), "incorrect nonce");

  // Two good shares and one from another split of another key: refused.
  RecordingBackend other_physical;
  barrier::AesGcmBarrier other_barrier(other_physical);
  ShamirSeal other_seal(other_physical, other_barrier);
  auto other = other_seal.Initialize(5, 3);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(seal_.GenerateRootUpdate(shares_[0], st->nonce).has_value());
  ASSERT_TRUE(seal_.GenerateRootUpdate(shares_[1], st->nonce).has_value());
  auto bad = seal_.GenerateRootUpdate(other->shares[2], st->nonce);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "root generation failed: the key shares are invalid");
  EXPECT_EQ(seal_.GenerateRootProgress()->progress, 0);
  EXPECT_TRUE(seal_.GenerateRootProgress()->started);

  Result<GenerateRootUpdateResult> r;
  for (int i : {4, 2}) {
    r = seal_.GenerateRootUpdate(shares_[static_cast<std::size_t>(i)], st->nonce);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_FALSE(r->complete);
    EXPECT_TRUE(r->otp.empty());
  }
  r = seal_.GenerateRootUpdate(shares_[0], st->nonce);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->otp.view(), "pad-pad-pad");
  EXPECT_FALSE(seal_.GenerateRootProgress()->started);
  EXPECT_EQ(physical_.transacts, 0);
  EXPECT_EQ(physical_.seal_puts, 0);

  ASSERT_TRUE(seal_.GenerateRootInit(SecretBytes::FromString("p")).has_value());
  ASSERT_TRUE(seal_.Seal().ok());
  EXPECT_EQ(seal_.GenerateRootProgress().error().code(), Code::kSealed);
  Unseal(seal_, shares_, {0, 1, 2});
  EXPECT_FALSE(seal_.GenerateRootProgress()->started);
}

}  // namespace
}  // namespace coffer::seal
