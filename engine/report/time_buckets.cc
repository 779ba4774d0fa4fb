#include "engine/report/time_buckets.h"

#include "schema/str.h"

namespace vox {
namespace {

constexpr Timestamp kHourMicros = 3600 * kMicrosPerSecond;
constexpr Timestamp kDayMicros = 24 * kHourMicros;
constexpr Timestamp kWeekMicros = 7 * kDayMicros;
// 1970-01-01 was a Thursday: the first Monday 00:00 UTC is four days later.
constexpr Timestamp kFirstMonday = 4 * kDayMicros;

bool IsWidth(BucketWidth w) {
  return w == BucketWidth::kHour || w == BucketWidth::kDay || w == BucketWidth::kWeek;
}

Timestamp Step(BucketWidth w) {
  switch (w) {
    case BucketWidth::kHour:
      return kHourMicros;
    case BucketWidth::kDay:
      return kDayMicros;
    case BucketWidth::kWeek:
      return kWeekMicros;
  }
  return kDayMicros;
}

// Floor of `t` to the width's grid, in 128 bits: near INT64_MIN the result
// may not fit in a Timestamp.
__int128 Floor128(Timestamp t, BucketWidth w) {
  const __int128 step = Step(w);
  const __int128 origin = w == BucketWidth::kWeek ? kFirstMonday : 0;
  const __int128 x = static_cast<__int128>(t) - origin;
  __int128 q = x / step;
  if (x % step < 0) --q;
  return q * step + origin;
}

}  // namespace

absl::StatusOr<BucketWidth> ParseBucketWidth(std::string_view name) {
  if (name == "hour") return BucketWidth::kHour;
  if (name == "day") return BucketWidth::kDay;
  if (name == "week") return BucketWidth::kWeek;
  return absl::InvalidArgumentError(
      StrCat("unknown bucket '", name.substr(0, 32), "'; use hour, day or week"));
}

std::string_view BucketWidthName(BucketWidth width) {
  switch (width) {
    case BucketWidth::kHour:
      return "hour";
    case BucketWidth::kDay:
      return "day";
    case BucketWidth::kWeek:
      return "week";
  }
  return "unknown";
}

Timestamp BucketStart(Timestamp t, BucketWidth width) {
  VOX_DCHECK(IsWidth(width));
  const __int128 start = Floor128(t, width);
  return start < INT64_MIN ? INT64_MIN : static_cast<Timestamp>(start);
}

absl::StatusOr<TimeBuckets> TimeBuckets::Make(const BucketedRange& range) {
  if (!IsWidth(range.bucket)) {
    return absl::InvalidArgumentError(
        StrCat("unknown bucket width ", static_cast<int>(range.bucket), "; use hour, day or week"));
  }
  if (range.from >= range.to) {
    return absl::InvalidArgumentError(StrCat("the range is empty: from ",
                                             FormatTimestamp(range.from), " is not before to ",
                                             FormatTimestamp(range.to)));
  }
  const __int128 first = Floor128(range.from, range.bucket);
  if (first < INT64_MIN) {
    return absl::InvalidArgumentError(
        StrCat("from ", range.from, " is too far in the past to bucket"));
  }
  const Timestamp step = Step(range.bucket);
  const __int128 last = Floor128(range.to - 1, range.bucket);
  const __int128 count = (last - first) / step + 1;
  if (count > static_cast<__int128>(kMaxReportBuckets)) {
    return absl::InvalidArgumentError(StrCat(
        "the range ", FormatTimestamp(range.from), " to ", FormatTimestamp(range.to), " spans ",
        count > INT64_MAX ? INT64_MAX : static_cast<int64_t>(count), " ",
        BucketWidthName(range.bucket), " buckets; at most ", kMaxReportBuckets, " are allowed"));
  }
  TimeBuckets b;
  b.from_ = range.from;
  b.to_ = range.to;
  b.first_ = static_cast<Timestamp>(first);
  b.step_ = step;
  b.width_ = range.bucket;
  b.count_ = static_cast<size_t>(count);
  return b;
}

std::vector<Timestamp> TimeBuckets::starts() const {
  std::vector<Timestamp> out(count_);
  for (size_t i = 0; i < count_; ++i) out[i] = start(i);
  return out;
}

}  // namespace vox
