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

std::string FormatUuid(const Uuid& u) {
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", u.hi >> 32, (u.hi >> 16) & 0xffff,
                         u.hi & 0xffff, u.lo >> 48, u.lo & 0xffffffffffffULL);
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

std::string FormatTimestamp(Timestamp ts) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(ts), absl::UTCTimeZone());
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
