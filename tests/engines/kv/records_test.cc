// The KV v2 engine's record encoders and decoders (records.h), in particular
// the simdjson fast path of DecodeMetadata (metadata_fast.cc) against the
// DOM path it falls back to.
#include "engines/kv/records.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/json_numbers.h"
#include "common/json_scratch.h"
#include "common/status.h"

namespace coffer::engines::kv {
namespace {

void ExpectSameMetadata(const KeyMetadata& a, const KeyMetadata& b) {
  EXPECT_EQ(a.current_version, b.current_version);
  EXPECT_EQ(a.oldest_version, b.oldest_version);
  EXPECT_EQ(a.max_versions, b.max_versions);
  EXPECT_EQ(a.cas_required, b.cas_required);
  EXPECT_EQ(a.delete_version_after, b.delete_version_after);
  EXPECT_EQ(a.custom_metadata, b.custom_metadata);
  EXPECT_EQ(a.created_time, b.created_time);
  EXPECT_EQ(a.updated_time, b.updated_time);
  ASSERT_EQ(a.versions.size(), b.versions.size());
  for (const auto& [n, v] : a.versions) {
    ASSERT_TRUE(b.versions.contains(n)) << n;
    EXPECT_EQ(v.created_time, b.versions.at(n).created_time) << n;
    EXPECT_EQ(v.deletion_time, b.versions.at(n).deletion_time) << n;
    EXPECT_EQ(v.destroyed, b.versions.at(n).destroyed) << n;
  }
}

KeyMetadata Sample() {
  KeyMetadata m;
  m.current_version = 12;
  m.oldest_version = 3;
  m.max_versions = 10;
  m.cas_required = true;
  m.delete_version_after = -1;
  m.custom_metadata = std::map<std::string, std::string>{{"owner", "team-a"}, {"é", "\"q\""}};
  m.created_time = 1'795'000'000'000'000'000;
  m.updated_time = m.created_time + 42;
  m.versions[3] = {m.created_time, std::nullopt, true};
  m.versions[11] = {m.created_time + 1, m.created_time + 2, false};
  m.versions[12] = {m.created_time + 3, std::nullopt, false};
  return m;
}

TEST(KvRecordsTest, MetadataRoundTripsThroughTheFastPath) {
  const KeyMetadata m = Sample();
  const std::string raw = EncodeMetadata(m);
  std::optional<KeyMetadata> fast = DecodeMetadataFast(raw);
  ASSERT_TRUE(fast.has_value());
  ExpectSameMetadata(m, *fast);
  auto decoded = DecodeMetadata(raw);
  ASSERT_TRUE(decoded.has_value());
  ExpectSameMetadata(m, *decoded);

  KeyMetadata empty;  // no custom metadata (null), no versions
  auto back = DecodeMetadataFast(EncodeMetadata(empty));
  ASSERT_TRUE(back.has_value());
  ExpectSameMetadata(empty, *back);
  EXPECT_FALSE(back->custom_metadata.has_value());
}

// Custom metadata is the user's: the thread's kept parser is wiped after a
// metadata record, as after any text (common/json_scratch.h).
// The entry's boundary is its first raw newline: JSON text escapes one in a
// string, so neither custom metadata nor the secret's data can move it.
TEST(KvRecordsTest, AMetadataEntrySplitsAtItsFirstNewlineOnly) {
  KeyMetadata m = Sample();
  (*m.custom_metadata)["note"] = "line one\nline two";
  const std::string version = EncodeVersion({Json{{"v", "a\nb"}, {"w", "\n"}}, 7});
  const std::string entry = EncodeMetadataEntry(m, version);
  const MetadataEntryParts parts = SplitMetadataEntry(entry);
  EXPECT_EQ(parts.current, version);
  auto meta = DecodeMetadata(parts.metadata);
  ASSERT_TRUE(meta.has_value()) << meta.error().ToString();
  ExpectSameMetadata(m, *meta);
  auto record = DecodeVersion(parts.current);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->data["v"], "a\nb");

  // Without a current version the entry is the metadata alone, as entries
  // of the older layout are.
  const std::string metadata_only = EncodeMetadata(m);
  EXPECT_EQ(EncodeMetadataEntry(m, ""), metadata_only);
  const MetadataEntryParts bare = SplitMetadataEntry(metadata_only);
  EXPECT_EQ(bare.metadata, metadata_only);
  EXPECT_TRUE(bare.current.empty());
}

TEST(KvRecordsTest, TheFastPathLeavesNoMetadataValueInTheKeptParser) {
  KeyMetadata m = Sample();
  m.custom_metadata = std::map<std::string, std::string>{{"owner", "canary-5d1e8b"}};
  auto fast = DecodeMetadataFast(EncodeMetadata(m));
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->custom_metadata->at("owner"), "canary-5d1e8b");
  EXPECT_FALSE(internal::ScratchHolds("canary-5d1e8b"));
}

TEST(KvRecordsTest, RecordsTheFastPathDeclinesStillDecodeAsBefore) {
  // Types the encoder never writes, but the DOM path has always accepted.
  const std::string variant =
      R"({"current_version":2.0,"oldest_version":1,"max_versions":0,"cas_required":false,)"
      R"("delete_version_after":0,"custom_metadata":null,"created_time":5,"updated_time":6,)"
      R"("versions":{"1":{"created_time":5,"deletion_time":null,"destroyed":false},)"
      R"("2":{"created_time":6,"deletion_time":7,"destroyed":false}},"future_field":[1]})";
  EXPECT_FALSE(DecodeMetadataFast(variant).has_value());
  auto decoded = DecodeMetadata(variant);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->current_version, 2u);
  EXPECT_EQ(decoded->versions.at(2).deletion_time, 7);

  // An unknown field alone does not push a record off the fast path.
  KeyMetadata m = Sample();
  std::string raw = EncodeMetadata(m);
  raw.insert(1, R"("future_field":{"x":[1,2]},)");
  auto fast = DecodeMetadataFast(raw);
  ASSERT_TRUE(fast.has_value());
  ExpectSameMetadata(m, *fast);
}

TEST(KvRecordsTest, CorruptMetadataIsAnInternalErrorOnBothPaths) {
  std::string full = EncodeMetadata(Sample());
  for (const std::string& raw : {
           std::string(R"({"current_version":1})"),                      // fields missing
           full.substr(0, full.size() / 2),                              // truncated
           std::string(R"([1,2,3])"),                                    // not an object
           std::string(R"({"current_version":-1,"oldest_version":1})"),  // negative
       }) {
    SCOPED_TRACE(raw);
    EXPECT_FALSE(DecodeMetadataFast(raw).has_value());
    auto decoded = DecodeMetadata(raw);
    ASSERT_FALSE(decoded.has_value());
    EXPECT_EQ(decoded.error().code(), Code::kInternal);
    EXPECT_EQ(decoded.error().message().find("team-a"), std::string::npos);
  }
  // A version number that is not a number.
  std::string bad_version = full;
  bad_version.replace(bad_version.find("\"11\""), 4, "\"x1\"");
  EXPECT_FALSE(DecodeMetadataFast(bad_version).has_value());
  EXPECT_FALSE(DecodeMetadata(bad_version).has_value());
  // A number followed by anything else is not a version number either.
  for (const char* key : {"\"1x\"", "\"-1\"", "\"\""}) {
    SCOPED_TRACE(key);
    std::string raw = full;
    raw.replace(raw.find("\"11\""), 4, key);
    EXPECT_FALSE(DecodeMetadataFast(raw).has_value());
    EXPECT_FALSE(DecodeMetadataDom(raw).has_value());
  }
}

// A version's deletion time: the shorter of the mount's and the key's
// delay; a delay too long for the clock saturates rather than wrapping
// around into the past (which would delete every version at its write).
TEST(KvRecordsTest, ScheduledDeletionTakesTheShorterDelayAndSaturates) {
  const Nanos at = 1'700'000'000'000'000'000LL;
  Config config;
  KeyMetadata m;
  EXPECT_FALSE(ScheduledDeletion(at, config, m).has_value());
  m.delete_version_after = 60;
  EXPECT_EQ(ScheduledDeletion(at, config, m), at + 60'000'000'000LL);
  config.delete_version_after = 30;
  EXPECT_EQ(ScheduledDeletion(at, config, m), at + 30'000'000'000LL);
  config.delete_version_after = 0;
  for (std::int64_t days : {100'000LL, 1'000'000LL, 100'000'000'000LL}) {
    m.delete_version_after = days * 86'400;
    auto when = ScheduledDeletion(at, config, m);
    ASSERT_TRUE(when.has_value());
    EXPECT_GT(*when, at) << days;
  }
  config.delete_version_after = -1;  // turned off for the mount
  EXPECT_FALSE(ScheduledDeletion(at, config, m).has_value());
}

TEST(KvRecordsTest, VersionRecordsRoundTrip) {
  VersionRecord v;
  v.data =
      Json{{"user", "alice"}, {"pin", 1234},  {"neg", -5},
           {"ratio", 0.5},    {"huge", 1e20}, {"nested", {{"list", {1, "two", nullptr, false}}}}};
  v.created_time = 1'795'000'000'000'000'007;
  auto back = DecodeVersion(EncodeVersion(v));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->data, v.data);
  EXPECT_EQ(back->data.dump(), v.data.dump());
  EXPECT_EQ(back->created_time, v.created_time);

  EXPECT_FALSE(DecodeVersion(R"({"data":[1],"created_time":1})").has_value());
  EXPECT_FALSE(DecodeVersion(R"({"data":{}})").has_value());
  EXPECT_FALSE(DecodeVersion("{").has_value());
}

// Numbers a double would change are stored, read as text and decoded as
// the client wrote them (common/json_numbers.h).
TEST(KvRecordsTest, NumberTextIsStoredAsWritten) {
  VersionRecord v;
  v.data = Json{{"big", MakeNumberText("123456789012345678901234567890")},
                {"f", MakeNumberText("1.50")},
                {"list", {MakeNumberText("1e5"), 2, 0.5}}};
  v.created_time = 7;
  v.number_text = true;
  const std::string raw = EncodeVersion(v);
  std::optional<std::string_view> text = VersionDataText(raw);
  ASSERT_TRUE(text.has_value()) << raw;
  EXPECT_EQ(*text, R"({"big":123456789012345678901234567890,"f":1.50,"list":[1e5,2,0.5]})");

  auto exact = DecodeVersionAsWritten(raw);
  ASSERT_TRUE(exact.has_value());
  EXPECT_TRUE(exact->number_text);
  EXPECT_EQ(exact->data, v.data);
  EXPECT_EQ(exact->created_time, 7);
  // The plain decoder still reads it, as doubles (a subkeys answer).
  auto plain = DecodeVersion(raw);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->data["f"], 1.5);
  // A record without such numbers decodes to the same tree either way.
  auto ordinary = DecodeVersionAsWritten(EncodeVersion({Json{{"a", 1.5}}, 1}));
  ASSERT_TRUE(ordinary.has_value());
  EXPECT_FALSE(ordinary->number_text);
  EXPECT_EQ(ordinary->data, (Json{{"a", 1.5}}));
  EXPECT_FALSE(DecodeVersionAsWritten(R"({"data":[1],"created_time":1})").has_value());
}

// A read's text answer is byte for byte what the tree renders, for values
// that exercise every escape, non-ASCII text and each kind of number.
TEST(KvRecordsTest, ReadTextIsWhatTheTreeRenders) {
  std::vector<Json> datas = {
      Json::object(),
      Json{{"user", "alice"}, {"password", "s3cr\"et\\with\nescapes\t\x01\x1f\x7f"}},
      Json{{"unicode", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"}, {"", "empty key"}},
      Json{{"pin", 1234},
           {"neg", -5},
           {"min", std::numeric_limits<std::int64_t>::min()},
           {"umax", std::numeric_limits<std::uint64_t>::max()},
           {"ratio", 0.1},
           {"huge", 1e20},
           {"tiny", 1.5e-300},
           {"negzero", -0.0},
           {"whole", 3.0}},
      Json{{"nested", {{"list", {1, "two", nullptr, false, Json::object(), Json::array()}}}},
           {"braces", "}}{{][\"\\"}},
  };
  KeyMetadata m;
  m.current_version = 7;
  VersionMeta live{1'795'000'000'123'456'789, std::nullopt, false};
  VersionMeta scheduled{1'795'000'000'000'000'000, 1'895'000'000'000'000'001, false};
  std::vector<std::optional<std::map<std::string, std::string>>> customs = {
      std::nullopt,
      std::map<std::string, std::string>{{"owner", "team \"a\"\n"}, {"b", "\xc3\xa9"}}};
  for (const Json& data : datas) {
    std::string raw = EncodeVersion({data, live.created_time});
    std::optional<std::string_view> text = VersionDataText(raw);
    ASSERT_TRUE(text.has_value()) << raw;
    // Numbers with an exponent are stored as Go prints them ("huge" as
    // 100000000000000000000), as the answers built from a tree print them.
    auto go_dump = [](const Json& j) {
      std::string out = j.dump(-1, ' ', false, Json::error_handler_t::replace);
      GoStyleExponents(out);
      return out;
    };
    EXPECT_EQ(*text, go_dump(data));
    if (data.contains("huge")) {
      EXPECT_NE(text->find("\"huge\":100000000000000000000,"), std::string_view::npos) << *text;
    }
    for (const auto& custom : customs) {
      m.custom_metadata = custom;
      for (const VersionMeta& vm : {live, scheduled}) {
        auto record = DecodeVersion(raw);
        ASSERT_TRUE(record.has_value());
        Json tree{{"data", record->data}, {"metadata", VersionMetadataJson(m, 7, vm)}};
        EXPECT_EQ(ReadDataText(*text, m, 7, vm), go_dump(tree));
      }
    }
  }
}

// A record of any other shape is left to DecodeVersion.
TEST(KvRecordsTest, VersionDataTextDeclinesOtherShapes) {
  for (std::string_view raw : {
           R"({"data":{"a":1},"created_time":1})",             // other key order
           R"({"created_time":1,"data":[1]})",                 // not an object
           R"({"created_time":x,"data":{}})",                  // not a number
           R"({"created_time":,"data":{}})",                   // no digits
           R"({"created_time":1,"data":{},"extra":{"b":2}})",  // a field after data
           R"({"created_time":1,"data":{"a":"}"})",            // cut short
           R"({"created_time":1,"data":{"a":{}})",             // unbalanced
           R"({"created_time":1,"data":{"a":"\"}"})",          // escaped quote, then short
           R"({"created_time":1,"data":{}}})",                 // a brace too many
           "",
       }) {
    EXPECT_FALSE(VersionDataText(raw).has_value()) << raw;
  }
  auto ok = VersionDataText(R"({"created_time":-1,"data":{"a":"\\","b":"}\"{"}})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, R"({"a":"\\","b":"}\"{"})");
}

}  // namespace
}  // namespace coffer::engines::kv
