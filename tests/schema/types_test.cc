#include "schema/types.h"

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
