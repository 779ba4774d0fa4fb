#include "schema/types.h"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace vox {
namespace {

TEST(TypesTest, UuidRoundTrips) {
  const Uuid u{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  EXPECT_EQ(FormatUuid(u), "01234567-89ab-cdef-fedc-ba9876543210");
  EXPECT_EQ(*ParseUuid("01234567-89AB-cdef-fedc-ba9876543210"), u);
}

TEST(TypesTest, MalformedUuidsAreRefused) {
  EXPECT_FALSE(ParseUuid("").ok());
  EXPECT_FALSE(ParseUuid("01234567-89ab-cdef-fedc-ba987654321").ok());
  EXPECT_FALSE(ParseUuid("0123456789ab-cdef-fedc-ba9876543210x").ok());
  EXPECT_FALSE(ParseUuid("01234567-89ab-cdef-fedc-ba987654321g").ok());
}

TEST(TypesTest, TimestampsRoundTrip) {
  auto t = ParseTimestamp("2026-11-01T00:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1793491200LL * kMicrosPerSecond);
  EXPECT_EQ(FormatTimestamp(*t + 5), "2026-11-01T00:00:00.000005Z");
  EXPECT_FALSE(ParseTimestamp("yesterday").ok());
}

// The hand-written formatter against absl's, over the whole range it
// covers, its edges and past them (where it hands over to absl).
TEST(TypesTest, TimestampsFormatAsAbslDoes) {
  const auto absl_format = [](Timestamp ts) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(ts), absl::UTCTimeZone());
  };
  std::vector<Timestamp> cases = {0,
                                  -1,
                                  1,
                                  kMicrosPerSecond - 1,
                                  -kMicrosPerSecond,
                                  951782400LL * kMicrosPerSecond,   // 2000-02-29
                                  4107542400LL * kMicrosPerSecond,  // 2100-03-01
                                  -30610224000LL * kMicrosPerSecond,      // 1000-01-01
                                  -30610224000LL * kMicrosPerSecond - 1,  // before: absl
                                  -62135596800LL * kMicrosPerSecond,      // 0001-01-01
                                  253402300800LL * kMicrosPerSecond - 1,  // 9999-12-31
                                  253402300800LL * kMicrosPerSecond,      // after: absl
                                  INT64_MAX,
                                  INT64_MIN};
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<Timestamp> any(-62135596800LL * kMicrosPerSecond,
                                               253402300800LL * kMicrosPerSecond);
  for (int i = 0; i < 200000; ++i) cases.push_back(any(rng));
  for (Timestamp ts : cases) ASSERT_EQ(FormatTimestamp(ts), absl_format(ts)) << ts;
  std::string out = "x";
  AppendTimestamp(out, 0);
  EXPECT_EQ(out, "x1970-01-01T00:00:00.000000Z");
}

TEST(TypesTest, UuidsFormatAsPrintfDoes) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10000; ++i) {
    const Uuid u{rng(), i % 7 == 0 ? 0 : rng()};
    char want[40];
    std::snprintf(want, sizeof want, "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(u.hi >> 32),
                  static_cast<unsigned long long>((u.hi >> 16) & 0xffff),
                  static_cast<unsigned long long>(u.hi & 0xffff),
                  static_cast<unsigned long long>(u.lo >> 48),
                  static_cast<unsigned long long>(u.lo & 0xffffffffffffULL));
    ASSERT_EQ(FormatUuid(u), want);
    ASSERT_EQ(*ParseUuid(want), u);
  }
}

TEST(TypesTest, InetAcceptsBothFamilies) {
  auto v4 = ParseInet("192.168.1.20");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(FormatInet(*v4), "192.168.1.20");
  auto v6 = ParseInet("2001:db8::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(FormatInet(*v6), "2001:db8::1");
  EXPECT_FALSE(ParseInet("300.1.1.1").ok());
}

}  // namespace
}  // namespace vox
