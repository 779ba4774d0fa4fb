// Basic value types shared by every VoxDB module: row ids, uuids,
// timestamps, the status helpers and debug checks.
#ifndef VOXDB_SCHEMA_TYPES_H_
#define VOXDB_SCHEMA_TYPES_H_

#include <cassert>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vox {

// A dense row number inside one table. Stable for the life of the row.
using RowId = uint32_t;
inline constexpr RowId kNoRow = UINT32_MAX;

// Microseconds since the Unix epoch, UTC.
using Timestamp = int64_t;
inline constexpr Timestamp kMicrosPerSecond = 1'000'000;

// A 128-bit identifier, stored big-endian-ordered as two words so that
// UUIDv7 values sort by time.
struct Uuid {
  uint64_t hi = 0;
  uint64_t lo = 0;

  bool IsNil() const { return hi == 0 && lo == 0; }
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Uuid& u) {
    return H::combine(std::move(h), u.hi, u.lo);
  }
};

// Canonical 8-4-4-4-12 lowercase hex.
std::string FormatUuid(const Uuid& u);
// The same, appended to `out` (no temporary: the row encoders' hot path).
void AppendUuid(std::string& out, const Uuid& u);
// Accepts the canonical form (either case); InvalidArgument otherwise.
absl::StatusOr<Uuid> ParseUuid(std::string_view text);

// The proleptic Gregorian date `days` after 1970-01-01 (negative: before);
// year 0 is 1 BC.
struct CivilDay {
  int64_t year;
  int month;  // 1-12
  int day;    // 1-31
};
CivilDay CivilFromDays(int64_t days);

// RFC 3339 UTC with microseconds, e.g. 2026-11-01T00:00:00.000000Z.
std::string FormatTimestamp(Timestamp ts);
// The same, appended to `out`: computed by hand for years 1000-9999 (about
// 30x faster than absl::FormatTime), through absl::FormatTime otherwise.
void AppendTimestamp(std::string& out, Timestamp ts);
absl::StatusOr<Timestamp> ParseTimestamp(std::string_view text);

// An IPv4 or IPv6 address in 16 bytes (IPv4 as ::ffff:a.b.c.d).
absl::StatusOr<Uuid> ParseInet(std::string_view text);
std::string FormatInet(const Uuid& addr);

}  // namespace vox

// Debug-only precondition check (Abseil 20220623 has no ABSL_DCHECK).
#define VOX_DCHECK(cond) assert(cond)

// Returns from the current function if `expr` is not OK.
#define VOX_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status vox_status_ = (expr);       \
    if (!vox_status_.ok()) return vox_status_; \
  } while (0)

#define VOX_CONCAT_INNER_(a, b) a##b
#define VOX_CONCAT_(a, b) VOX_CONCAT_INNER_(a, b)
// `lhs` = value of the StatusOr `expr`, or return its error.
#define VOX_ASSIGN_OR_RETURN(lhs, expr) \
  VOX_ASSIGN_OR_RETURN_IMPL_(VOX_CONCAT_(vox_statusor_, __LINE__), lhs, expr)
#define VOX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#endif  // VOXDB_SCHEMA_TYPES_H_
