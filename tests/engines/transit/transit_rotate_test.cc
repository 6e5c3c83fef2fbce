#include <gtest/gtest.h>

#include <chrono>

#include "transit_test_util.h"

namespace coffer::engines::transit::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

class TransitRotateTest : public TransitTest {};

TEST_F(TransitRotateTest, RotatesDueKeysUnderAFakeClock) {
  EXPECT_EQ(*backend().RotateDueKeys(clock_.Wall()), TimePoint::max());  // nothing scheduled
  CreateKey("auto", Json{{"auto_rotate_period", "1h"}});
  CreateKey("manual");
  EXPECT_EQ(Read("keys/auto")["auto_rotate_period"], 3600);

  auto next = backend().RotateDueKeys(clock_.Wall());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, clock_.Wall() + hours(1));
  EXPECT_EQ(Read("keys/auto")["latest_version"], 1);

  clock_.Advance(minutes(59));
  ASSERT_TRUE(backend().RotateDueKeys(clock_.Wall()).has_value());
  EXPECT_EQ(Read("keys/auto")["latest_version"], 1);

  clock_.Advance(minutes(1));
  next = backend().RotateDueKeys(clock_.Wall());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(Read("keys/auto")["latest_version"], 2);
  EXPECT_EQ(*next, clock_.Wall() + hours(1));
  EXPECT_EQ(Read("keys/manual")["latest_version"], 1);

  // Running again at the same instant does nothing more.
  ASSERT_TRUE(backend().RotateDueKeys(clock_.Wall()).has_value());
  EXPECT_EQ(Read("keys/auto")["latest_version"], 2);

  // A manual rotation restarts the period.
  clock_.Advance(minutes(30));
  Ok("keys/auto/rotate");
  clock_.Advance(minutes(45));
  ASSERT_TRUE(backend().RotateDueKeys(clock_.Wall()).has_value());
  EXPECT_EQ(Read("keys/auto")["latest_version"], 3);

  // Turning it off stops it.
  Ok("keys/auto/config", Json{{"auto_rotate_period", 0}});
  clock_.Advance(hours(5));
  EXPECT_EQ(*backend().RotateDueKeys(clock_.Wall()), TimePoint::max());
  EXPECT_EQ(Read("keys/auto")["latest_version"], 3);
}

TEST_F(TransitRotateTest, PeriodBelowTheMinimumIsRejected) {
  CreateKey("k");
  EXPECT_NE(Bad("keys/k/config", Json{{"auto_rotate_period", "30m"}}).find("at least 1h"),
            std::string::npos);
  EXPECT_NE(Bad("keys/k/config", Json{{"auto_rotate_period", "soon"}}), "");
}

class TransitShortPeriodTest : public TransitTest {
 protected:
  void SetUp() override {
    options_ = Json{{"min_auto_rotate_period", "1s"}};
    TransitTest::SetUp();
  }
};

TEST_F(TransitShortPeriodTest, MountOptionLowersTheMinimum) {
  CreateKey("k", Json{{"auto_rotate_period", "2s"}});
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(backend().RotateDueKeys(clock_.Wall()).has_value());
  EXPECT_EQ(Read("keys/k")["latest_version"], 2);
}

TEST(TransitRotationThread, RotatesOnARealShortPeriodAndStopsOnDestruction) {
  storage::InmemBackend storage;
  logical::BackendConfig config{storage, SystemClock::Instance(), "transit/", "transit",
                                Json{{"min_auto_rotate_period", "1s"}}};
  auto engine = NewTransitBackend(config);
  ASSERT_TRUE(engine.has_value());
  ASSERT_TRUE((*engine)->Initialize().ok());
  logical::Request create;
  create.operation = Operation::kCreate;
  create.relative_path = "keys/k";
  create.data = Json{{"auto_rotate_period", "1s"}};
  ASSERT_TRUE((*engine)->HandleRequest(create).has_value());
  logical::Request read;
  read.operation = Operation::kRead;
  read.relative_path = "keys/k";
  // Poll with a deadline: the thread rotates about one second after creation.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int latest = 1;
  while (latest < 2 && std::chrono::steady_clock::now() < deadline) {
    auto r = (*engine)->HandleRequest(read);
    ASSERT_TRUE(r.has_value());
    latest = r->data["latest_version"].get<int>();
    if (latest < 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(latest, 2);
  engine->reset();  // joins the thread; must not hang
}

}  // namespace
}  // namespace coffer::engines::transit::testing
