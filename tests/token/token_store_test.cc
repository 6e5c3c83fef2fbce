#include "token/token_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "storage/inmem/inmem_backend.h"
#include "token/token_backend.h"

namespace coffer::token {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  storage::InmemBackend view_;
  FakeClock clock_;
  TokenStore store_{view_, clock_};
};

TEST_F(TokenStoreTest, RootTokenLooksUpAndIsNeverStoredInTheClear) {
  ASSERT_TRUE(store_.Load().ok());
  auto id = store_.CreateRoot();
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->view().starts_with("hvs."));
  EXPECT_EQ(id->size(), 44u);
  // Its random part (after "hvs." and the 8 time characters) is stored
  // nowhere either.
  const std::string random_part(id->view().substr(12));

  auto entry = store_.Lookup(id->view());
  ASSERT_TRUE(entry.has_value());
  ASSERT_NE(*entry, nullptr);
  EXPECT_TRUE((*entry)->IsRoot());

  // Scan every stored value and key for the token id.
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    std::string prefix = stack.back();
    stack.pop_back();
    auto children = view_.List(prefix);
    ASSERT_TRUE(children.has_value());
    for (const auto& c : *children) {
      std::string key = prefix + c;
      EXPECT_EQ(key.find(id->view()), std::string::npos);
      EXPECT_EQ(key.find(random_part), std::string::npos) << key;
      if (c.back() == '/') {
        stack.push_back(key);
        continue;
      }
      auto v = view_.Get(key);
      ASSERT_TRUE(v.has_value() && v->has_value());
      EXPECT_EQ((*v)->value.find(id->view()), std::string::npos) << key;
      EXPECT_EQ((*v)->value.find(random_part), std::string::npos) << key;
    }
  }
}

TEST_F(TokenStoreTest, UnknownTokenIsNull) {
  ASSERT_TRUE(store_.Load().ok());
  auto entry = store_.Lookup("hvs.nope");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(*entry, nullptr);
}

// The cache of entries stays within its bound; a token whose entry was
// dropped from it still looks up (read back from storage), and one revoked
// stays revoked whether its entry was cached or not.
TEST(TokenStoreCacheTest, StaysWithinItsBoundAndDroppedTokensStillWork) {
  storage::InmemBackend view;
  FakeClock clock;
  Options options;
  options.max_cached_entries = 8;
  TokenStore store(view, clock, options);
  ASSERT_TRUE(store.Load().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    TokenRequest req;
    req.policies = {"p" + std::to_string(i)};
    req.ttl = std::chrono::hours(1);
    auto created = store.CreateToken(req);
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
    ids.emplace_back(created->id.view());
    EXPECT_LE(store.CachedEntries(), 8u);
  }
  EXPECT_EQ(store.CacheEvictions(), 32u);
  for (int i = 0; i < 40; ++i) {
    auto entry = store.Lookup(ids[i]);
    ASSERT_TRUE(entry.has_value());
    ASSERT_NE(*entry, nullptr) << "token " << i << " lost";
    EXPECT_EQ((*entry)->policies, (std::vector<std::string>{"default", "p" + std::to_string(i)}));
    EXPECT_LE(store.CachedEntries(), 8u);
  }
  for (int i = 0; i < 40; i += 3) ASSERT_TRUE(store.Revoke(ids[i]).ok());
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      auto entry = store.Lookup(ids[i]);
      ASSERT_TRUE(entry.has_value());
      EXPECT_EQ(*entry == nullptr, i % 3 == 0) << "token " << i;
    }
  }
}

TEST_F(TokenStoreTest, SurvivesReloadWithTheSameSalt) {
  ASSERT_TRUE(store_.Load().ok());
  auto id = store_.CreateRoot("my-dev-root");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->view(), "my-dev-root");
  store_.Unload();
  EXPECT_EQ(store_.Lookup("my-dev-root").error().code(), Code::kSealed);
  TokenStore again(view_, clock_);
  ASSERT_TRUE(again.Load().ok());
  auto entry = again.Lookup("my-dev-root");
  ASSERT_TRUE(entry.has_value());
  ASSERT_NE(*entry, nullptr);
}

TEST_F(TokenStoreTest, TokensBeginWithTheirCreationTime) {
  ASSERT_TRUE(store_.Load().ok());
  // The fake clock starts at 2026-01-01T00:00:00Z: 1,767,225,600,000 ms,
  // "0V70MWDg" in base62 (0-9A-Za-z).
  auto first = store_.CreateToken(TokenRequest{});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id.view().substr(0, 12), "hvs.0V70MWDg");
  EXPECT_TRUE(first->entry->id_hmac.starts_with("0V70MWDg")) << first->entry->id_hmac;
  EXPECT_EQ(first->entry->id_hmac.size(), 8u + 64u);
  EXPECT_TRUE(first->entry->accessor.starts_with("0V70MWDg"));
  EXPECT_EQ(first->entry->accessor.size(), 32u);

  // Later tokens sort after earlier ones, by hash and by accessor, so their
  // storage keys append; the random part still differs between two tokens
  // of the same millisecond.
  std::vector<std::string> hmacs{first->entry->id_hmac};
  std::vector<std::string> accessors{first->entry->accessor};
  std::string previous_id(first->id.view());
  for (auto step :
       {std::chrono::milliseconds(1), std::chrono::milliseconds(0), std::chrono::milliseconds(61),
        std::chrono::milliseconds(62 * 62 * 62), std::chrono::milliseconds(86'400'000)}) {
    clock_.Advance(step);
    auto next = store_.CreateToken(TokenRequest{});
    ASSERT_TRUE(next.has_value());
    EXPECT_NE(next->id.view(), previous_id);
    previous_id = std::string(next->id.view());
    if (step.count() == 0) continue;  // same millisecond: no order between the two
    EXPECT_GT(next->entry->id_hmac.substr(0, 8), hmacs.back().substr(0, 8));
    EXPECT_GT(next->entry->accessor.substr(0, 8), accessors.back().substr(0, 8));
    hmacs.push_back(next->entry->id_hmac);
    accessors.push_back(next->entry->accessor);
  }
  EXPECT_TRUE(std::is_sorted(hmacs.begin(), hmacs.end()));
  EXPECT_TRUE(std::is_sorted(accessors.begin(), accessors.end()));
  auto listed = view_.List("id/");
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 6u);
  EXPECT_TRUE(std::is_sorted(listed->begin(), listed->end()));
  EXPECT_EQ(listed->front(), hmacs.front());
}

// Expiry is kept in whole seconds. A token issued or renewed part way
// through a second counts from the next one, so it lives at least its TTL
// (never less, as a renewal at 2/3 of a short TTL needs) and less than a
// second more; its time left never reads more than was granted.
TEST_F(TokenStoreTest, ShortTtlsLastAtLeastWhatWasGranted) {
  using namespace std::chrono_literals;
  ASSERT_TRUE(store_.Load().ok());
  clock_.Advance(900ms);  // 00:00:00.9
  TokenRequest request;
  request.policies = {"app"};
  request.ttl = 3s;
  request.renewable = true;
  auto created = store_.CreateToken(request);
  ASSERT_TRUE(created.has_value()) << created.error().ToString();
  const std::string id(created->id.view());
  const std::string hmac = created->entry->id_hmac;
  EXPECT_EQ(created->entry->expire_time - created->entry->creation_time, 3);
  auto json = LookupJson(*created->entry, "", store_.NowUnixUp());
  EXPECT_EQ(json["ttl"], 3);
  EXPECT_EQ(json["creation_ttl"], 3);

  clock_.Advance(2900ms);  // 2.9 s after the issue: it still works
  auto looked = store_.Lookup(id);
  ASSERT_TRUE(looked.has_value());
  ASSERT_NE(*looked, nullptr) << "a 3 s token expired 2.9 s after its issue";
  EXPECT_LE(LookupJson(**looked, "", store_.NowUnixUp())["ttl"].get<int>(), 1);

  // Renewed 2.9 s into its 3 s: good for 3 s more, counted from the
  // renewal, not from the second it fell in.
  auto renewed = store_.Renew(hmac, 3s);
  ASSERT_TRUE(renewed.has_value()) << renewed.error().ToString();
  EXPECT_EQ((*renewed)->expire_time - (*renewed)->last_renewal, 3);
  EXPECT_EQ(LookupJson(**renewed, "", store_.NowUnixUp())["ttl"], 3);
  clock_.Advance(2900ms);
  looked = store_.Lookup(id);
  ASSERT_TRUE(looked.has_value());
  EXPECT_NE(*looked, nullptr) << "a renewal's 3 s ended 2.9 s after it";

  // And it does end, within a second of its TTL.
  clock_.Advance(1100ms);
  looked = store_.Lookup(id);
  ASSERT_TRUE(looked.has_value());
  EXPECT_EQ(*looked, nullptr);
}

TEST_F(TokenStoreTest, IdsWithoutTimeCharactersStillWork) {
  ASSERT_TRUE(store_.Load().ok());
  // An id of the earlier shape ("hvs." and 32 random characters), an id of
  // the present length with a character outside base62, and dev mode's kind
  // of requested id: each is hashed whole, without a time prefix, and looks
  // up as created.
  for (std::string id : {std::string("hvs.") + std::string(32, 'q'),
                         std::string("hvs.") + std::string(39, 'q') + "-", std::string("root")}) {
    TokenRequest r;
    r.requested_id = id;
    auto created = store_.CreateToken(r);
    ASSERT_TRUE(created.has_value()) << id;
    EXPECT_EQ(created->entry->id_hmac.size(), 64u) << id;
    EXPECT_EQ(created->entry->id_hmac.find_first_not_of("0123456789abcdef"), std::string::npos);
    auto found = store_.Lookup(id);
    ASSERT_TRUE(found.has_value());
    ASSERT_NE(*found, nullptr) << id;
    EXPECT_EQ((*found)->id_hmac, created->entry->id_hmac);
  }
  // A requested id of the present shape is keyed by its own time characters.
  TokenRequest r;
  r.requested_id = "hvs.00000001" + std::string(32, 'z');
  auto created = store_.CreateToken(r);
  ASSERT_TRUE(created.has_value());
  EXPECT_TRUE(created->entry->id_hmac.starts_with("00000001"));
  auto found = store_.Lookup(r.requested_id);
  ASSERT_TRUE(found.has_value());
  ASSERT_NE(*found, nullptr);
  // The same time characters with another random part are another token.
  auto other = store_.Lookup("hvs.00000001" + std::string(32, 'y'));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(*other, nullptr);
}

TEST_F(TokenStoreTest, RevokeRemovesTheToken) {
  ASSERT_TRUE(store_.Load().ok());
  auto id = store_.CreateRoot();
  ASSERT_TRUE(store_.Revoke(id->view()).ok());
  auto entry = store_.Lookup(id->view());
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(*entry, nullptr);
}

TEST_F(TokenStoreTest, RevokeHookSeesEveryTokenOfTheTree) {
  std::vector<std::string> revoked;
  std::mutex mu;
  store_.SetRevokeHook([&](std::string_view hmac) {
    std::scoped_lock lock(mu);
    revoked.emplace_back(hmac);
    return Status::Ok();
  });
  ASSERT_TRUE(store_.Load().ok());
  TokenRequest parent_req;
  parent_req.policies = {"a"};
  auto parent = store_.CreateToken(parent_req);
  ASSERT_TRUE(parent.has_value());
  TokenRequest child_req;
  child_req.policies = {"a"};
  child_req.parent_hmac = parent->entry->id_hmac;
  auto child = store_.CreateToken(child_req);
  ASSERT_TRUE(child.has_value());
  ASSERT_TRUE(store_.RevokeTree(parent->entry->id_hmac).ok());
  std::sort(revoked.begin(), revoked.end());
  std::vector<std::string> want{parent->entry->id_hmac, child->entry->id_hmac};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(revoked, want);
}

// A cubbyhole that could not be destroyed fails the revocation and keeps
// the token (unusable) for a retry, which finishes the job: a token deleted
// first would leave its cubbyhole with nothing to find it.
TEST_F(TokenStoreTest, ARevocationWhoseHookFailsKeepsTheTokenForARetry) {
  int failures_left = 1;
  store_.SetRevokeHook([&](std::string_view) {
    if (failures_left > 0) {
      --failures_left;
      return Unavailable("storage is down");
    }
    return Status::Ok();
  });
  ASSERT_TRUE(store_.Load().ok());
  TokenRequest req;
  req.policies = {"a"};
  auto token = store_.CreateToken(req);
  ASSERT_TRUE(token.has_value());
  const std::string id(token->id.view());
  EXPECT_EQ(store_.Revoke(id).code(), Code::kUnavailable);
  EXPECT_EQ(*store_.Lookup(id), nullptr);  // unusable at once
  EXPECT_EQ(*store_.CountTokens(), 1u);    // and still there to retry
  auto tidied = store_.Tidy();
  ASSERT_TRUE(tidied.has_value());
  EXPECT_EQ(tidied->tokens_revoked, 1u);
  EXPECT_EQ(*store_.CountTokens(), 0u);
}

TEST(TokenEntryRecordTest, EncodesEveryFieldAndDecodesToTheSameEntry) {
  TokenEntry e;
  e.id_hmac = "abc123";
  e.accessor = "acc";
  e.policies = {"default", "ops \"x\""};
  e.parent_hmac = "parent";
  e.path = "auth/token/create/ci";
  e.display_name = "token-ci\n";
  e.meta = {{"team", "caf\xc3\xa9"}, {"quote\\", "\""}};
  e.creation_time = 1700000000;
  e.ttl = 3600;
  e.num_uses = -1;
  e.expire_time = 1700003600;
  e.last_renewal = 1700000100;
  e.explicit_max_ttl = 7200;
  e.period = 60;
  e.renewable = false;
  e.role = "ci";
  e.entity_id = "ent";
  const std::string text = EncodeTokenEntry(e);
  // The same record nlohmann::json printed before the encoder existed.
  nlohmann::json old = {{"id_hmac", e.id_hmac},
                        {"accessor", e.accessor},
                        {"policies", e.policies},
                        {"parent_hmac", e.parent_hmac},
                        {"path", e.path},
                        {"display_name", e.display_name},
                        {"meta", e.meta},
                        {"creation_time", e.creation_time},
                        {"ttl", e.ttl},
                        {"num_uses", e.num_uses},
                        {"expire_time", e.expire_time},
                        {"last_renewal", e.last_renewal},
                        {"explicit_max_ttl", e.explicit_max_ttl},
                        {"period", e.period},
                        {"renewable", e.renewable},
                        {"role", e.role},
                        {"entity_id", e.entity_id}};
  EXPECT_EQ(text, old.dump());
  auto back = DecodeTokenEntry(text);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(EncodeTokenEntry(*back), text);
  EXPECT_EQ(back->meta, e.meta);
  EXPECT_EQ(back->policies, e.policies);
  EXPECT_FALSE(back->renewable);
  EXPECT_EQ(back->num_uses, -1);
  EXPECT_FALSE(DecodeTokenEntry("{\"accessor\":1}").has_value());

  // A binding to addresses is stored only when there is one, in key order.
  e.bound_cidrs = {"10.0.0.0/8", "::1"};
  old["bound_cidrs"] = e.bound_cidrs;
  const std::string bound = EncodeTokenEntry(e);
  EXPECT_EQ(bound, old.dump());
  auto bound_back = DecodeTokenEntry(bound);
  ASSERT_TRUE(bound_back.has_value()) << bound_back.error().ToString();
  EXPECT_EQ(bound_back->bound_cidrs, e.bound_cidrs);
  EXPECT_TRUE(back->bound_cidrs.empty());

  // So is what an auth method keeps for renewals.
  e.internal = {{"certificate_sha256", "00ff"}};
  old["internal"] = e.internal;
  const std::string kept = EncodeTokenEntry(e);
  EXPECT_EQ(kept, old.dump());
  auto kept_back = DecodeTokenEntry(kept);
  ASSERT_TRUE(kept_back.has_value()) << kept_back.error().ToString();
  EXPECT_EQ(kept_back->internal, e.internal);
  EXPECT_TRUE(back->internal.empty());
}

}  // namespace
}  // namespace coffer::token
