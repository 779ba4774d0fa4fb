// Time buckets for reports: a range [from, to) cut into fixed-width UTC
// intervals of an hour, a day or a week (weeks start Monday 00:00 UTC, as
// ISO 8601 has them). Buckets are aligned to the calendar, not to `from`:
// the first bucket starts at or before `from` and the last one ends at or
// after `to`, so the first and last buckets may be partial. A report counts
// only what falls inside [from, to) and labels it with its bucket's start.
//
// UTC has no daylight-saving shifts, so every bucket of a width is the same
// length and finding a timestamp's bucket is one subtraction and a division.
// Thread-compatible value type.
#ifndef VOXDB_ENGINE_REPORT_TIME_BUCKETS_H_
#define VOXDB_ENGINE_REPORT_TIME_BUCKETS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "schema/types.h"

namespace vox {

enum class BucketWidth : uint8_t { kHour, kDay, kWeek };

// "hour", "day" or "week"; InvalidArgument for anything else.
absl::StatusOr<BucketWidth> ParseBucketWidth(std::string_view name);
// "hour", "day", "week"; "unknown" for a value outside the enum.
std::string_view BucketWidthName(BucketWidth width);

// A report's time range and bucket width.
struct BucketedRange {
  Timestamp from = 0;  // inclusive
  Timestamp to = 0;    // exclusive
  BucketWidth bucket = BucketWidth::kDay;
};

// A range may hold at most this many buckets (e.g. 416 days by the hour).
inline constexpr size_t kMaxReportBuckets = 10'000;

// The start of the bucket of `width` holding `t` (floor, also for t < 0).
// REQUIRES: `width` is a BucketWidth value.
Timestamp BucketStart(Timestamp t, BucketWidth width);

class TimeBuckets {
 public:
  // InvalidArgument if from >= to, the width is not a BucketWidth, or the
  // range spans more than kMaxReportBuckets buckets.
  static absl::StatusOr<TimeBuckets> Make(const BucketedRange& range);

  Timestamp from() const { return from_; }
  Timestamp to() const { return to_; }
  BucketWidth width() const { return width_; }
  Timestamp width_micros() const { return step_; }
  size_t count() const { return count_; }

  // The start of bucket `i`. REQUIRES: i < count().
  Timestamp start(size_t i) const { return first_ + static_cast<Timestamp>(i) * step_; }
  // Every bucket start, in order.
  std::vector<Timestamp> starts() const;

  bool Contains(Timestamp t) const { return t >= from_ && t < to_; }
  // The bucket holding `t`. REQUIRES: Contains(t).
  uint32_t IndexOf(Timestamp t) const { return static_cast<uint32_t>((t - first_) / step_); }

 private:
  TimeBuckets() = default;

  Timestamp from_ = 0, to_ = 0, first_ = 0, step_ = 1;
  BucketWidth width_ = BucketWidth::kDay;
  size_t count_ = 0;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_REPORT_TIME_BUCKETS_H_
