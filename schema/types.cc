#include "schema/types.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "schema/str.h"

namespace vox {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void AppendUuid(std::string& out, const Uuid& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[36];
  int at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) buf[at++] = '-';
    const uint64_t word = nibble < 16 ? u.hi : u.lo;
    buf[at++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 0xf];
  }
  out.append(buf, sizeof buf);
}

std::string FormatUuid(const Uuid& u) {
  std::string out;
  AppendUuid(out, u);
  return out;
}

absl::StatusOr<Uuid> ParseUuid(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return absl::InvalidArgumentError(
        StrCat("'", text.substr(0, 64), "' is not a uuid (want 8-4-4-4-12 hex digits)"));
  }
  uint64_t words[2] = {0, 0};
  int nibble = 0;
  for (char c : text) {
    if (c == '-') continue;
    int v = HexValue(c);
    if (v < 0) {
      return absl::InvalidArgumentError(StrCat("'", text, "' is not a uuid (bad hex digit)"));
    }
    words[nibble / 16] = (words[nibble / 16] << 4) | static_cast<uint64_t>(v);
    ++nibble;
  }
  return Uuid{words[0], words[1]};
}

CivilDay CivilFromDays(int64_t days) {
  // H. Hinnant's civil_from_days: eras of 400 years starting on March 1st.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2), month, day};
}

void AppendTimestamp(std::string& out, Timestamp ts) {
  // 1000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: four-digit
  // years (absl does not pad shorter ones).
  constexpr Timestamp kMin = -30610224000LL * kMicrosPerSecond;
  constexpr Timestamp kMax = 253402300800LL * kMicrosPerSecond - 1;
  if (ts < kMin || ts > kMax) {
    out += absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(ts), absl::UTCTimeZone());
    return;
  }
  constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;
  int64_t days = ts / kMicrosPerDay;
  int64_t micros = ts % kMicrosPerDay;
  if (micros < 0) {
    micros += kMicrosPerDay;
    --days;
  }
  const auto [year, month, day] = CivilFromDays(days);
  const int64_t second_of_day = micros / kMicrosPerSecond;
  const int64_t fraction = micros % kMicrosPerSecond;
  char buf[] = "0000-00-00T00:00:00.000000Z";
  const auto put = [&](int at, int digits, int64_t v) {
    for (int i = at + digits - 1; i >= at; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, year);
  put(5, 2, month);
  put(8, 2, day);
  put(11, 2, second_of_day / 3600);
  put(14, 2, second_of_day / 60 % 60);
  put(17, 2, second_of_day % 60);
  put(20, 6, fraction);
  out.append(buf, sizeof buf - 1);  // without the terminating NUL
}

std::string FormatTimestamp(Timestamp ts) {
  std::string out;
  AppendTimestamp(out, ts);
  return out;
}

absl::StatusOr<Timestamp> ParseTimestamp(std::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &err)) {
    return absl::InvalidArgumentError(
        StrCat("'", text.substr(0, 64), "' is not an RFC 3339 timestamp: ", err));
  }
  return absl::ToUnixMicros(t);
}

absl::StatusOr<Uuid> ParseInet(std::string_view text) {
  std::string s(text.substr(0, 64));
  unsigned char buf[16] = {};
  if (inet_pton(AF_INET, s.c_str(), buf + 12) == 1) {
    buf[10] = buf[11] = 0xff;
  } else if (inet_pton(AF_INET6, s.c_str(), buf) != 1) {
    return absl::InvalidArgumentError(StrCat("'", s, "' is not an IPv4 or IPv6 address"));
  }
  Uuid out;
  for (int i = 0; i < 8; ++i) out.hi = (out.hi << 8) | buf[i];
  for (int i = 8; i < 16; ++i) out.lo = (out.lo << 8) | buf[i];
  return out;
}

std::string FormatInet(const Uuid& addr) {
  unsigned char buf[16];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<unsigned char>(addr.hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) buf[8 + i] = static_cast<unsigned char>(addr.lo >> (56 - 8 * i));
  char out[INET6_ADDRSTRLEN] = {};
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(buf, kMapped, 12) == 0) {
    inet_ntop(AF_INET, buf + 12, out, sizeof(out));
  } else {
    inet_ntop(AF_INET6, buf, out, sizeof(out));
  }
  return out;
}

}  // namespace vox
