#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "audit/broker.h"
#include "audit/chain.h"
#include "audit/device.h"
#include "common/loop_turn.h"
#include "storage/inmem/inmem_backend.h"
#include "storage/temp_dir.h"

namespace coffer::audit {
namespace {

namespace fs = std::filesystem;
using logical::Json;

using storage::test_util::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::unique_ptr<Device> FileDevice(const std::string& path, FakeClock& clock,
                                   Json extra = Json::object()) {
  DeviceConfig config{"file/", "file", "", {{"file_path", path}, {"checkpoint_entries", "5"}}};
  config.options.update(extra);
  auto salt = *Salt::Create(SecretBytes::FromString(std::string(32, 's')));
  auto d = Device::Create(config, std::move(salt), clock);
  EXPECT_TRUE(d.has_value()) << d.error().ToString();
  return std::move(*d);
}

std::string Body(int i) { return Json{{"type", "request"}, {"i", i}}.dump(); }

std::vector<std::string> VerifyText(const std::string& text) {
  ChainVerifier v;
  v.AddFile("audit.log", text);
  std::vector<std::string> out;
  for (const auto& p : v.problems()) out.push_back(p.where + ": " + p.message);
  return out;
}

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = FileDevice(dir_.file("audit.log"), clock_);
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(d->Write(Body(i)).ok());
    d->Close();
    text_ = ReadAll(dir_.file("audit.log"));
    lines_ = Lines(text_);
  }
  TempDir dir_;
  FakeClock clock_;
  std::string text_;
  std::vector<std::string> lines_;
};

TEST_F(ChainTest, UntouchedLogVerifiesWithCheckpoints) {
  // 12 entries, checkpoints after 5 and 10 entries, and one at close.
  ASSERT_EQ(lines_.size(), 15u);
  ChainVerifier v;
  v.AddFile("audit.log", text_);
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].message;
  EXPECT_EQ(v.checkpoints().size(), 3u);
  EXPECT_TRUE(v.ends_with_final_checkpoint());
  EXPECT_EQ(v.first_seq(), 1u);
  EXPECT_EQ(v.last_seq(), 15u);
}

TEST_F(ChainTest, CheckpointSignaturesVerifyOnlyWithTheDeviceKey) {
  ChainVerifier v;
  v.AddFile("audit.log", text_);
  auto other = *Salt::Create(SecretBytes::FromString(std::string(32, 's')));
  SecretBytes key = CheckpointKey(other->key());
  for (const auto& c : v.checkpoints()) {
    EXPECT_EQ(CheckpointMac(key, "file/", c.seq, c.prev_hash), c.hmac);
  }
  SecretBytes wrong = CheckpointKey(SecretBytes::FromString(std::string(32, 't')));
  EXPECT_NE(CheckpointMac(wrong, "file/", v.checkpoints()[0].seq, v.checkpoints()[0].prev_hash),
            v.checkpoints()[0].hmac);
}

TEST_F(ChainTest, DeletedLineIsFound) {
  auto l = lines_;
  l.erase(l.begin() + 3);
  auto p = VerifyText(Join(l));
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("audit.log:4"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("removed"), std::string::npos) << p[0];
}

TEST_F(ChainTest, EditedLineIsFound) {
  auto l = lines_;
  std::size_t at = l[2].find("\"i\":");
  ASSERT_NE(at, std::string::npos);
  l[2].replace(at, 5, "\"i\":9");
  auto p = VerifyText(Join(l));
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("audit.log:4"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("line 3 was edited"), std::string::npos) << p[0];
}

TEST_F(ChainTest, SwappedLinesAreFound) {
  auto l = lines_;
  std::swap(l[6], l[7]);
  auto p = VerifyText(Join(l));
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("audit.log:7"), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("swapped"), std::string::npos) << p[0];
}

TEST_F(ChainTest, TruncatedEndIsFoundByTheMissingFinalCheckpoint) {
  auto l = lines_;
  l.resize(l.size() - 2);
  ChainVerifier v;
  v.AddFile("audit.log", Join(l));
  EXPECT_TRUE(v.problems().empty());
  EXPECT_FALSE(v.ends_with_final_checkpoint());
  // Cut mid-line, too.
  auto p = VerifyText(text_.substr(0, text_.size() - 10));
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("incomplete"), std::string::npos);
}

TEST_F(ChainTest, ForgedAppendedLineChainsButIsNotSigned) {
  // An attacker can extend the chain (hashes are public) but cannot sign a
  // checkpoint; a forged line after the close checkpoint also leaves the
  // log without a final checkpoint.
  auto l = lines_;
  ParseLine(l.back()).value();
  std::string forged = Frame(Format::kJson, 16, Sha256Hex(l.back()), Body(99));
  l.push_back(forged);
  ChainVerifier v;
  v.AddFile("audit.log", Join(l));
  EXPECT_TRUE(v.problems().empty());
  EXPECT_FALSE(v.ends_with_final_checkpoint());
  // A forged checkpoint carries a MAC the server does not accept.
  std::string fake_mac(64, 'a');
  SecretBytes key = CheckpointKey(SecretBytes::FromString(std::string(32, 's')));
  EXPECT_NE(CheckpointMac(key, "file/", 17, Sha256Hex(forged)), fake_mac);
}

TEST_F(ChainTest, GarbageLineIsFound) {
  auto l = lines_;
  l.insert(l.begin() + 5, "{\"type\":\"request\"}");
  auto p = VerifyText(Join(l));
  ASSERT_FALSE(p.empty());
  EXPECT_NE(p[0].find("audit.log:6"), std::string::npos) << p[0];
}

TEST(DeviceTest, ReopenContinuesTheChainAcrossFiles) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("audit.log"), clock);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d->Write(Body(i)).ok());
  fs::rename(dir.file("audit.log"), dir.file("audit.log.1"));
  ASSERT_TRUE(d->Reopen().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d->Write(Body(i)).ok());
  d->Close();
  ChainVerifier v;
  v.AddFile("audit.log.1", ReadAll(dir.file("audit.log.1")));
  EXPECT_TRUE(v.ends_with_final_checkpoint());
  v.AddFile("audit.log", ReadAll(dir.file("audit.log")));
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].message;
  EXPECT_EQ(v.last_seq(), 8u);  // 3 + rotate + 3 + close
  // The second file alone starts mid-chain.
  ChainVerifier second;
  second.AddFile("audit.log", ReadAll(dir.file("audit.log")));
  EXPECT_EQ(second.first_seq(), 5u);
}

TEST(DeviceTest, RestartContinuesFromTheLastLine) {
  TempDir dir;
  FakeClock clock;
  {
    auto d = FileDevice(dir.file("audit.log"), clock);
    ASSERT_TRUE(d->Write(Body(1)).ok());
  }  // no close: as after a crash
  auto d = FileDevice(dir.file("audit.log"), clock);
  ASSERT_TRUE(d->Write(Body(2)).ok());
  EXPECT_EQ(d->head().seq, 2u);
  ChainVerifier v;
  v.AddFile("audit.log", ReadAll(dir.file("audit.log")));
  EXPECT_TRUE(v.problems().empty());
}

TEST(DeviceTest, IntervalCheckpointUnderFakeClock) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("audit.log"), clock,
                      {{"checkpoint_entries", "1000"}, {"checkpoint_interval", "10s"}});
  ASSERT_TRUE(d->Write(Body(1)).ok());
  clock.Advance(std::chrono::seconds(11));
  ASSERT_TRUE(d->Write(Body(2)).ok());
  auto lines = Lines(ReadAll(dir.file("audit.log")));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(ParseLine(lines[2])->checkpoint);
  EXPECT_EQ(ParseLine(lines[2])->reason, "interval");
}

TEST(DeviceTest, ConcurrentWritersProduceOneUnbrokenChain) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("audit.log"), clock, {{"checkpoint_entries", "50"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) ASSERT_TRUE(d->Write(Body(t * 1000 + i)).ok());
    });
  }
  for (auto& t : threads) t.join();
  d->Close();
  ChainVerifier v;
  v.AddFile("audit.log", ReadAll(dir.file("audit.log")));
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].message;
  EXPECT_EQ(v.last_seq(), 1600u + 32u + 1u);
}

TEST(DeviceTest, FullDiskFailsAndRollsBackTheChain) {
  FakeClock clock;
  auto d = FileDevice("/dev/full", clock);
  Status s = d->Write(Body(1));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(d->head().seq, 0u);
}

TEST(DeviceTest, RemovedDirectoryFailsUntilItIsBack) {
  TempDir dir;
  FakeClock clock;
  std::string sub = dir.file("logs");
  fs::create_directory(sub);
  auto d = FileDevice(sub + "/audit.log", clock);
  ASSERT_TRUE(d->Write(Body(1)).ok());
  fs::remove_all(sub);
  EXPECT_FALSE(d->Write(Body(2)).ok());
  EXPECT_EQ(d->head().seq, 1u);
  fs::create_directory(sub);
  EXPECT_TRUE(d->Write(Body(3)).ok());
  EXPECT_EQ(d->head().seq, 2u);
}

TEST(DeviceTest, OptionsAreValidated) {
  FakeClock clock;
  auto salt = *Salt::Create(SecretBytes::FromString(std::string(32, 's')));
  auto bad = [&](Json options, const char* type = "file") {
    DeviceConfig config{"x/", type, "", std::move(options)};
    auto d = Device::Create(config, salt, clock);
    return !d.has_value() && d.error().code() == Code::kInvalidArgument;
  };
  EXPECT_TRUE(bad(Json::object()));
  EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"mode", "0755"}}));
  EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"mode", "0700"}}));
  EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"mode", "rw"}}));
  EXPECT_TRUE(bad({{"file_path", "relative.log"}}));
  EXPECT_TRUE(bad({{"file_path", "/nonexistent-dir/x.log"}}));
  EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"format", "xml"}}));
  EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"filter", "path =="}}));
  EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"log_raw", "maybe"}}));
  for (const char* n : {"0", "-1", "10x", " 5", "99999999999999999999"}) {
    EXPECT_TRUE(bad({{"file_path", "/tmp/x.log"}, {"checkpoint_entries", n}})) << n;
  }
  EXPECT_TRUE(bad(Json::object(), "socket"));
  EXPECT_TRUE(bad({{"address", "127.0.0.1:1"}, {"socket_type", "sctp"}}, "socket"));
  EXPECT_TRUE(bad({{"facility", "NOPE"}}, "syslog"));
  EXPECT_TRUE(bad(Json::object(), "kafka"));
}

TEST(DeviceTest, ModeIsApplied) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("a.log"), clock, {{"mode", "0640"}});
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("a.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  auto e = FileDevice(dir.file("b.log"), clock);
  ASSERT_EQ(::stat(dir.file("b.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

// file_path "discard" (Vault's): writes succeed and nothing is created, not
// even a file of that name in the current directory.
TEST(DeviceTest, DiscardTakesEntriesAndWritesNothing) {
  TempDir dir;
  FakeClock clock;
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  auto d = FileDevice("discard", clock);
  ASSERT_NE(d, nullptr);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(d->Write(Body(i)).ok());
  d->Close();
  EXPECT_TRUE(fs::is_empty(dir.path()));
  ASSERT_EQ(::chdir(cwd), 0);
}

TEST(DeviceTest, JsonxLinesChainToo) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("x.log"), clock, {{"format", "jsonx"}, {"checkpoint_entries", "2"}});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d->Write(ToJsonx(Json::parse(Body(i)))).ok());
  d->Close();
  std::string text = ReadAll(dir.file("x.log"));
  ChainVerifier v;
  v.AddFile("x.log", text);
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].message;
  EXPECT_EQ(v.checkpoints().size(), 2u);
  auto lines = Lines(text);
  std::swap(lines[0], lines[1]);
  EXPECT_FALSE(VerifyText(Join(lines)).empty());
}

TEST(DeviceTest, TheFrameComesLast) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("audit.log"), clock);
  ASSERT_TRUE(d->Write(Body(7)).ok());
  ASSERT_TRUE(d->Write(std::string("{}")).ok());
  auto lines = Lines(ReadAll(dir.file("audit.log")));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            R"({"i":7,"type":"request","seq":1,"prev_hash":")" + std::string(kGenesisHash) + "\"}");
  EXPECT_EQ(lines[1], R"({"seq":2,"prev_hash":")" + Sha256Hex(lines[0]) + "\"}");
}

// Bodies that begin alike (as a request's two entries do) are hashed from a
// saved state; every line must still hash to what the verifier computes.
TEST(DeviceTest, LinesThatBeginAlikeChainLikeAnyOthers) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("audit.log"), clock, {{"checkpoint_entries", "7"}});
  std::size_t written = 0;
  for (std::size_t common = 50; common < 300; common += 7) {
    std::string head = R"({"auth":")" + std::string(common, 'a');
    std::vector<std::string> bodies = {head + R"(","type":"request"})",
                                       head + R"(","response":{"x":1},"type":"response"})",
                                       head + R"(","type":"request"})",  // same as the first
                                       head.substr(0, common / 2) + R"("})"};
    written += bodies.size();
    ASSERT_TRUE(d->Write(std::move(bodies)).ok());
  }
  d->Close();
  ChainVerifier v;
  v.AddFile("audit.log", ReadAll(dir.file("audit.log")));
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].where << " " << v.problems()[0].message;
  EXPECT_EQ(v.last_seq(), written + written / 7 + 1);
}

TEST(ChainFormatTest, SharedPrefixIsWholeBlocksOfWhatBothLinesKeep) {
  std::string a = "{" + std::string(200, 'x') + "}";
  EXPECT_EQ(SharedFramedPrefix(Format::kJson, a, a), 192u);  // 201 bytes kept, 3 blocks
  std::string b = a;
  b[130] = 'y';
  EXPECT_EQ(SharedFramedPrefix(Format::kJson, a, b), 128u);
  EXPECT_EQ(SharedFramedPrefix(Format::kJson, a, a.substr(0, 100) + "}"), 64u);
  EXPECT_EQ(SharedFramedPrefix(Format::kJson, a, "{}"), 0u);
  EXPECT_EQ(SharedFramedPrefix(Format::kJsonx, a, a), 0u);
}

TEST(ChainFormatTest, LineHasherMatchesAPlainHash) {
  LineHasher h;
  std::string out;
  // Lines given as a head and a tail, as a device hashes them.
  std::string a(300, 'a'), b = std::string(200, 'a') + std::string(100, 'b');
  auto head = [](const std::string& l) { return std::string_view(l).substr(0, 280); };
  auto tail = [](const std::string& l) { return std::string_view(l).substr(280); };
  h.Hash(head(a), tail(a), 0, 192, out);
  EXPECT_EQ(out, Sha256Hex(a));
  h.Hash(head(b), tail(b), 192, 0, out);
  EXPECT_EQ(out, Sha256Hex(b));
  // A saved state is used only for a line said to share it.
  h.Hash(head(a), tail(a), 0, 256, out);
  h.Hash(head(b), tail(b), 0, 0, out);
  EXPECT_EQ(out, Sha256Hex(b));
  h.Hash(head(a), tail(a), 0, 256, out);
  h.Hash(head(b), tail(b), 128, 0, out);
  EXPECT_EQ(out, Sha256Hex(b));
  h.Hash(a, {}, 0, 0, out);
  EXPECT_EQ(out, Sha256Hex(a));
}

// A file device writes a batch with writev, two pieces a line: a batch of
// more lines than one writev takes is written in several calls, and after
// one that large (whose lists are not kept) the next write is whole too.
TEST(DeviceTest, ABatchOfMorePiecesThanOneWritevTakesIsWrittenWhole) {
  TempDir dir;
  FakeClock clock;
  auto d = FileDevice(dir.file("audit.log"), clock, {{"checkpoint_entries", "100000"}});
  std::vector<std::string> bodies;
  for (int i = 0; i < 9000; ++i) bodies.push_back(Body(i));
  ASSERT_TRUE(d->Write(std::move(bodies)).ok());
  ASSERT_TRUE(d->Write(Body(9000)).ok());
  d->Close();
  std::string text = ReadAll(dir.file("audit.log"));
  ChainVerifier v;
  v.AddFile("audit.log", text);
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].message;
  EXPECT_EQ(v.last_seq(), 9002u);
  auto lines = Lines(text);
  ASSERT_EQ(lines.size(), 9002u);
  EXPECT_EQ(Json::parse(lines[8999]).at("i"), 8999);
  EXPECT_EQ(Json::parse(lines[9000]).at("i"), 9000);
}

// Logs written before the frame moved to the end (seq and prev_hash first)
// verify, and a chain continues from one.
TEST(ChainFormatTest, LinesWithTheFrameFirstStillVerify) {
  std::string l1 = R"({"seq":1,"prev_hash":")" + std::string(kGenesisHash) + R"(","i":1})";
  std::string l2 = R"({"seq":2,"prev_hash":")" + Sha256Hex(l1) + R"(","i":2})";
  EXPECT_TRUE(VerifyText(Join({l1, l2})).empty());
  std::string x1 =
      R"(<json:object xmlns:json="http://www.ibm.com/xmlns/prod/2009/jsonx"><json:number name="seq">1</json:number><json:string name="prev_hash">)" +
      std::string(kGenesisHash) +
      R"(</json:string><json:string name="type">checkpoint</json:string><json:string name="device">file/</json:string><json:string name="reason">close</json:string></json:object>)";
  auto info = ParseLine(x1);
  ASSERT_TRUE(info.has_value()) << info.error().ToString();
  EXPECT_EQ(info->seq, 1u);
  EXPECT_TRUE(info->checkpoint);
  EXPECT_EQ(info->reason, "close");

  TempDir dir;
  FakeClock clock;
  {
    std::ofstream out(dir.file("audit.log"));
    out << Join({l1, l2});
  }
  auto d = FileDevice(dir.file("audit.log"), clock);
  ASSERT_TRUE(d->Write(Body(3)).ok());
  d->Close();
  ChainVerifier v;
  v.AddFile("audit.log", ReadAll(dir.file("audit.log")));
  EXPECT_TRUE(v.problems().empty()) << v.problems()[0].message;
  EXPECT_EQ(v.last_seq(), 4u);
}

class BrokerTest : public ::testing::Test {
 protected:
  logical::Request Req() {
    logical::Request r;
    r.id = "1";
    r.path = "secret/data/x";
    r.client_token = "s.tok";
    r.data = {{"password", "pw"}};
    return r;
  }
  TempDir dir_;
  FakeClock clock_;
  storage::InmemBackend store_;
};

TEST_F(BrokerTest, EnablePersistsAndLoadRestoresWithTheSameSalt) {
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"file", "file", "", {{"file_path", dir_.file("a.log")}}}).ok());
  EXPECT_TRUE(b.Enabled());
  std::string h = *b.Hash("file/", "pw");
  EXPECT_FALSE(b.Enable({"file/", "file", "", {{"file_path", dir_.file("b.log")}}}).ok());
  b.Unload();
  EXPECT_FALSE(b.Enabled());
  Broker again(store_, clock_);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_EQ(again.List().size(), 1u);
  EXPECT_EQ(*again.Hash("file", "pw"), h);
  EXPECT_EQ(again.Hash("nope/", "pw").error().code(), Code::kNotFound);
  ASSERT_TRUE(again.Disable("file/").ok());
  EXPECT_EQ(again.Disable("file/").code(), Code::kNotFound);
  Broker third(store_, clock_);
  ASSERT_TRUE(third.Load().ok());
  EXPECT_TRUE(third.List().empty());
}

TEST_F(BrokerTest, FailsClosedOnlyWhenNoDeviceWrote) {
  Broker b(store_, clock_);
  MountInfo mount{"kv", "secret/", "", {}, {}};
  EXPECT_TRUE(b.LogRequest(Req(), mount, "").ok());  // no devices: nothing to record
  ASSERT_TRUE(b.Enable({"full/", "file", "", {{"file_path", "/dev/full"}}}).ok());
  EXPECT_EQ(b.LogRequest(Req(), mount, "").code(), Code::kInternal);
  ASSERT_TRUE(b.Enable({"good/", "file", "", {{"file_path", dir_.file("good.log")}}}).ok());
  EXPECT_TRUE(b.LogRequest(Req(), mount, "").ok());
  std::string text = ReadAll(dir_.file("good.log"));
  EXPECT_NE(text.find(*b.Hash("good/", "pw")), std::string::npos);
  EXPECT_EQ(text.find("\"pw\""), std::string::npos);
}

TEST_F(BrokerTest, FilterRoutesEntries) {
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"health/",
                        "file",
                        "",
                        {{"file_path", dir_.file("health.log")},
                         {"filter", "path matches \"sys/health*\""}}})
                  .ok());
  ASSERT_TRUE(b.Enable({"main/",
                        "file",
                        "",
                        {{"file_path", dir_.file("main.log")},
                         {"filter", "not path matches \"sys/health*\""}}})
                  .ok());
  logical::Request health = Req();
  health.path = "sys/health";
  ASSERT_TRUE(b.LogRequest(health, {"system", "sys/", "", {}, {}}, "").ok());
  ASSERT_TRUE(b.LogRequest(Req(), {"kv", "secret/", "", {}, {}}, "").ok());
  EXPECT_EQ(Lines(ReadAll(dir_.file("health.log"))).size(), 1u);
  auto main = Lines(ReadAll(dir_.file("main.log")));
  ASSERT_EQ(main.size(), 1u);
  EXPECT_NE(main[0].find("secret/data/x"), std::string::npos);
}

// An event loop that runs "end of turn" work only when the test says so.
class FakeTurn final : public LoopTurn {
 public:
  FakeTurn() { LoopTurn::SetCurrent(this); }
  ~FakeTurn() override { LoopTurn::SetCurrent(nullptr); }
  void AtEnd(std::function<void()> fn) override { queued.push_back(std::move(fn)); }
  void RunTurnEnd() {
    auto fns = std::move(queued);
    queued.clear();
    for (auto& fn : fns) fn();
  }
  std::vector<std::function<void()>> queued;
};

TEST_F(BrokerTest, AsyncEntriesOnALoopThreadAreWrittenTogetherAtTheEndOfTheTurn) {
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"file/", "file", "", {{"file_path", dir_.file("turn.log")}}}).ok());
  MountInfo mount{"kv", "secret/", "", {}, {}};
  FakeTurn turn;
  logical::Response response;
  response.data = {{"data", {{"password", "pw"}}}};
  std::vector<std::optional<Status>> outcomes(3);
  for (auto& outcome : outcomes) {
    auto ticket = b.LogRequestAndResponseAsync(Req(), mount, clock_.Wall(), &response, "");
    ticket->Then([&outcome](Status s) { outcome = std::move(s); });
  }
  // Nothing is written, and no answer may leave, before the turn ends; one
  // end-of-turn task covers all three requests.
  EXPECT_EQ(turn.queued.size(), 1u);
  EXPECT_TRUE(ReadAll(dir_.file("turn.log")).empty());
  for (const auto& outcome : outcomes) EXPECT_FALSE(outcome.has_value());
  turn.RunTurnEnd();
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.has_value());
    EXPECT_TRUE(outcome->ok()) << outcome->ToString();
  }
  std::string text = ReadAll(dir_.file("turn.log"));
  EXPECT_EQ(Lines(text).size(), 6u);
  EXPECT_TRUE(VerifyText(text).empty());
  EXPECT_EQ(text.find("\"pw\""), std::string::npos);
  // The next request needs (and gets) a turn of its own.
  std::optional<Status> later;
  b.LogRequestAndResponseAsync(Req(), mount, clock_.Wall(), &response, "")
      ->Then([&later](Status s) { later = std::move(s); });
  EXPECT_EQ(turn.queued.size(), 1u);
  turn.RunTurnEnd();
  ASSERT_TRUE(later.has_value());
  EXPECT_TRUE(later->ok());
  EXPECT_EQ(Lines(ReadAll(dir_.file("turn.log"))).size(), 8u);
}

TEST_F(BrokerTest, EachRequestOfATurnIsRenderedFromItself) {
  // The requests of a turn may sit one after the other at the same address
  // (here: one object changed between them); none may be rendered from what
  // was kept of the one before.
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"file/", "file", "", {{"file_path", dir_.file("same.log")}}}).ok());
  MountInfo mount{"kv", "secret/", "", {}, {}};
  FakeTurn turn;
  logical::Request request = Req();
  for (int i = 0; i < 3; ++i) {
    request.id = "id-" + std::to_string(i);
    request.path = "secret/data/path-" + std::to_string(i);
    request.client_token = "s.token-" + std::to_string(i);
    b.LogRequestAndResponseAsync(request, mount, clock_.Wall(), nullptr, "");
    if (i == 1) turn.RunTurnEnd();  // and across turns
  }
  turn.RunTurnEnd();
  std::string text = ReadAll(dir_.file("same.log"));
  auto lines = Lines(text);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_TRUE(VerifyText(text).empty());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string n = std::to_string(i / 2);
    Json line = Json::parse(lines[i]);
    EXPECT_EQ(line["request"]["id"], "id-" + n) << lines[i];
    EXPECT_EQ(line["request"]["path"], "secret/data/path-" + n) << lines[i];
    EXPECT_EQ(line["auth"]["client_token"], *b.Hash("file/", "s.token-" + n)) << lines[i];
    EXPECT_EQ(line["request"]["client_token"], *b.Hash("file/", "s.token-" + n)) << lines[i];
  }
}

TEST_F(BrokerTest, EntriesHandedOverWhileATurnIsWrittenGetTheNextTurn) {
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"file/", "file", "", {{"file_path", dir_.file("next.log")}}}).ok());
  MountInfo mount{"kv", "secret/", "", {}, {}};
  FakeTurn turn;
  logical::Request first = Req();
  first.path = "secret/data/first";
  logical::Request second = Req();
  second.path = "secret/data/second";
  std::optional<Status> later;
  b.LogRequestAndResponseAsync(first, mount, clock_.Wall(), nullptr, "")->Then([&](Status s) {
    ASSERT_TRUE(s.ok());
    // An answer that leads to the next request being audited at once.
    b.LogRequestAndResponseAsync(second, mount, clock_.Wall(), nullptr, "")
        ->Then([&later](Status s2) { later = std::move(s2); });
  });
  turn.RunTurnEnd();
  EXPECT_FALSE(later.has_value());
  EXPECT_EQ(Lines(ReadAll(dir_.file("next.log"))).size(), 2u);
  ASSERT_EQ(turn.queued.size(), 1u);
  turn.RunTurnEnd();
  ASSERT_TRUE(later.has_value());
  EXPECT_TRUE(later->ok());
  std::string text = ReadAll(dir_.file("next.log"));
  auto lines = Lines(text);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(VerifyText(text).empty());
  EXPECT_NE(lines[1].find("secret/data/first"), std::string::npos);
  EXPECT_NE(lines[3].find("secret/data/second"), std::string::npos);
  EXPECT_EQ(lines[3].find("secret/data/first"), std::string::npos);
}

TEST_F(BrokerTest, ASocketDeviceIsNeverWrittenOnTheLoopThread) {
  // A socket write can stall on the other end: it goes to the writer thread
  // even from a thread with a loop, which stays free for other connections.
  int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(udp, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(udp, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"udp/",
                        "socket",
                        "",
                        {{"address", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port))},
                         {"socket_type", "udp"}}})
                  .ok());
  MountInfo mount{"kv", "secret/", "", {}, {}};
  FakeTurn turn;
  auto ticket = b.LogRequestAndResponseAsync(Req(), mount, clock_.Wall(), nullptr, "");
  EXPECT_TRUE(turn.queued.empty());
  turn.RunTurnEnd();  // (only so that a failure here does not hang the test)
  Status s = ticket->Wait();
  EXPECT_TRUE(s.ok()) << s.ToString();
  char buf[4096];
  EXPECT_GT(::recv(udp, buf, sizeof(buf), 0), 0);
  ::close(udp);
}

TEST_F(BrokerTest, AnEndOfTurnWriteThatFailsFailsEveryRequestOfTheTurn) {
  Broker b(store_, clock_);
  ASSERT_TRUE(b.Enable({"full/", "file", "", {{"file_path", "/dev/full"}}}).ok());
  MountInfo mount{"kv", "secret/", "", {}, {}};
  FakeTurn turn;
  std::vector<std::optional<Status>> outcomes(2);
  for (auto& outcome : outcomes) {
    b.LogRequestAndResponseAsync(Req(), mount, clock_.Wall(), nullptr, "")
        ->Then([&outcome](Status s) { outcome = std::move(s); });
  }
  turn.RunTurnEnd();
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->code(), Code::kInternal);
  }
  // Synchronous logging on the same thread does not wait for the turn (it
  // would never end): it is written (here: fails) at once.
  EXPECT_EQ(b.LogRequest(Req(), mount, "").code(), Code::kInternal);
  EXPECT_TRUE(turn.queued.empty());
}

}  // namespace
}  // namespace coffer::audit
