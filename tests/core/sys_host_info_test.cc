// sys/host-info: the parsers on fixed inputs, and the answer on this host.
#include "core/sys_host_info.h"

#include <gtest/gtest.h>

#include "core/core_fixture.h"

namespace coffer::core {
namespace {

using logical::Json;

TEST(HostInfoTest, ParsesCpuInfo) {
  Json cpus = hostinfo::ParseCpuInfo(
      "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 167\n"
      "model name\t: Intel(R) Xeon(R)\nstepping\t: 1\nmicrocode\t: 0x1\ncpu MHz\t\t: 2599.998\n"
      "cache size\t: 491520 KB\nphysical id\t: 0\ncore id\t\t: 0\ncpu cores\t: 2\n"
      "flags\t\t: fpu vme de\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\ncore id\t\t: 1\n");
  ASSERT_EQ(cpus.size(), 2U) << cpus.dump();
  EXPECT_EQ(cpus[0]["cpu"], 0);
  EXPECT_EQ(cpus[0]["vendorId"], "GenuineIntel");
  EXPECT_EQ(cpus[0]["family"], "6");
  EXPECT_EQ(cpus[0]["model"], "167");
  EXPECT_EQ(cpus[0]["modelName"], "Intel(R) Xeon(R)");
  EXPECT_EQ(cpus[0]["stepping"], 1);
  EXPECT_DOUBLE_EQ(cpus[0]["mhz"].get<double>(), 2599.998);
  EXPECT_EQ(cpus[0]["cacheSize"], 491520);
  EXPECT_EQ(cpus[0]["cores"], 2);
  EXPECT_EQ(cpus[0]["flags"], Json::array({"fpu", "vme", "de"}));
  EXPECT_EQ(cpus[1]["cpu"], 1);
  EXPECT_EQ(cpus[1]["coreId"], "1");
}

TEST(HostInfoTest, ParsesCpuTimesMemInfoAndOsRelease) {
  Json times = hostinfo::ParseCpuTimes("cpu  200 10 100 5000 30 0 7 1 0 0\ncpu0 1 2 3\n", 100);
  ASSERT_EQ(times.size(), 1U);
  EXPECT_EQ(times[0]["cpu"], "cpu-total");
  EXPECT_DOUBLE_EQ(times[0]["user"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(times[0]["idle"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(times[0]["steal"].get<double>(), 0.01);
  EXPECT_EQ(hostinfo::ParseCpuTimes("intr 1 2\n", 100), Json::array());

  Json mem = hostinfo::ParseMemInfo(
      "MemTotal:       1000 kB\nMemFree:         400 kB\nMemAvailable:    700 kB\n"
      "Buffers:          50 kB\nCached:          150 kB\nSReclaimable:     50 kB\n");
  EXPECT_EQ(mem["total"], 1000 * 1024);
  EXPECT_EQ(mem["available"], 700 * 1024);
  EXPECT_EQ(mem["free"], 400 * 1024);
  EXPECT_EQ(mem["used"], (1000 - 400 - 50 - 200) * 1024);
  EXPECT_DOUBLE_EQ(mem["usedPercent"].get<double>(), 35.0);

  EXPECT_EQ(
      hostinfo::ParseOsRelease("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                               "VERSION_ID=\"12\"\nID=debian\n"),
      (Json{{"platform", "debian"}, {"platformFamily", "debian"}, {"platformVersion", "12"}}));
  EXPECT_EQ(hostinfo::ParseOsRelease(
                "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n")["platformFamily"],
            "debian");
}

class HostInfoEndpointTest : public CoreFixture {};

TEST_F(HostInfoEndpointTest, AnswersWithEverySection) {
  logical::Response r = Call(logical::Operation::kRead, "sys/host-info");
  ASSERT_EQ(r.http_status, 200) << r.data.dump();
  for (const char* key : {"cpu", "cpu_times", "disk", "host", "memory", "timestamp"}) {
    EXPECT_TRUE(r.data.contains(key)) << key;
  }
  EXPECT_FALSE(r.data["cpu"].empty());
  EXPECT_GT(r.data["memory"]["total"].get<std::uint64_t>(), 0U);
  EXPECT_EQ(r.data["host"]["os"], "linux");
  EXPECT_EQ(Call(logical::Operation::kUpdate, "sys/host-info").http_status, 405);
}

}  // namespace
}  // namespace coffer::core
