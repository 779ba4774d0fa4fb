// Private to engine/report: request checks, the time-range scan loop, room
// dimension keys and audit metadata fields shared by the reports.
#ifndef VOXDB_ENGINE_REPORT_INTERNAL_REPORT_UTIL_H_
#define VOXDB_ENGINE_REPORT_INTERNAL_REPORT_UTIL_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/report/internal/series_builder.h"
#include "engine/report/report_snapshot.h"
#include "engine/report/time_buckets.h"

namespace vox::report_internal {

// The range's buckets, once the snapshot is known to hold `tables`.
absl::StatusOr<TimeBuckets> Prepare(const ReportSnapshot& snap, std::span<const TableId> tables,
                                    const BucketedRange& range);

// InvalidArgument unless `value` < `count` (an enum given as a request field).
absl::Status CheckEnumValue(std::string_view what, int value, size_t count);
template <typename E>
absl::Status CheckEnum(std::string_view what, const std::optional<E>& v, EnumId id) {
  return v ? CheckEnumValue(what, static_cast<int>(*v), GetEnum(id).values.size())
           : absl::OkStatus();
}
absl::Status CheckTopN(size_t top_n);

// Calls fn(row, t) for every live row of `table` whose timestamp column
// `time` is non-null and in [buckets.from(), buckets.to()). The predicate is
// a plain loop over the chunk's arrays; `fn` is inlined.
template <typename Fn>
void ScanTimeRange(const ReportSnapshot& snap, TableId table, ColumnId time,
                   const TimeBuckets& buckets, Fn&& fn) {
  const ColumnView<uint8_t> live = snap.live(table);
  const ColumnView<int64_t> ts = snap.column<int64_t>(table, time);
  const Timestamp from = buckets.from(), to = buckets.to();
  for (size_t k = 0; k < ts.chunk_count(); ++k) {
    const uint8_t* l = live.values(k);
    const int64_t* t = ts.values(k);
    const uint64_t* valid = ts.validity(k);
    const uint32_t rows = ts.chunk_rows(k);
    const RowId base = static_cast<RowId>(k << kChunkShift);
    for (uint32_t i = 0; i < rows; ++i) {
      if (t[i] >= from && t[i] < to && l[i] != 0 && ValidAt(valid, i)) fn(base + i, t[i]);
    }
  }
}

// A nullable ref's row, or kNoRow when null (or, defensively, outside the
// referenced table's image).
inline RowId RefAt(const ColumnView<uint32_t>& refs, RowId r, size_t target_rows) {
  if (refs.IsNull(r)) return kNoRow;
  const RowId v = refs[r];
  return v < target_rows ? v : kNoRow;
}

// The keys a room counts under for a room dimension (none, type, tag), and
// the room filters (is_public, tag) of a request.
class RoomKeys {
 public:
  enum class By : uint8_t { kNone, kType, kTag };
  static absl::StatusOr<RoomKeys> Make(const ReportSnapshot& snap, By by,
                                       std::optional<bool> is_public,
                                       const std::optional<std::string>& tag);

  // Whether `room` (kNoRow: an event with no room) passes the filters.
  bool Passes(RowId room) const;
  // The keys of `room` into out[0..n), n >= 1: 0 with no dimension; 1
  // PUBLIC / 0 PRIVATE; its tag ids, or kNoKeyId when it has none.
  int Keys(RowId room, uint32_t out[kMaxTagsPerRoom]) const;
  std::string Name(uint32_t key) const;
  std::string_view dimension() const;
  // Key ids are below this (see SeriesBuilder).
  size_t key_space() const;

 private:
  RoomKeys(const ReportSnapshot& snap, By by) : snap_(&snap), by_(by) {}

  const ReportSnapshot* snap_;
  By by_;
  std::optional<bool> is_public_;
  uint16_t tag_ = 0;  // filter; 0 = none
  ColumnView<uint8_t> public_;
  ColumnView<int64_t> tags_;
  size_t rooms_ = 0;
};

// The string value of "name" in a flat JSON object (audit metadata as the
// engine writes it), or empty. No unescaping: for enum-like values.
std::string_view JsonStringField(std::string_view json, std::string_view name);
// The integer value of "name", if there is one.
std::optional<int64_t> JsonIntField(std::string_view json, std::string_view name);
// The value named `text` of enum `id`, or -1.
int EnumValueOf(EnumId id, std::string_view text);

}  // namespace vox::report_internal

#endif  // VOXDB_ENGINE_REPORT_INTERNAL_REPORT_UTIL_H_
