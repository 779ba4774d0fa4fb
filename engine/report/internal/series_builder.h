// Private to engine/report: the accumulators every report uses to turn its
// scans into a ReportTable.
//
// A report scans its columns in plain loops and, for each row it counts,
// asks SeriesBuilder for the slot of (bucket, key id) and adds to the slot's
// integer cells. Finish() turns every slot into a ReportRow through the
// report's `derive` function (cells -> output columns: counts, sums, rates,
// averages) and sorts the rows. Exact percentiles and distinct counts are
// collected on the side (ValueCollector, DistinctCounter) and read by slot in
// `derive`.
#ifndef VOXDB_ENGINE_REPORT_INTERNAL_SERIES_BUILDER_H_
#define VOXDB_ENGINE_REPORT_INTERNAL_SERIES_BUILDER_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/report/report_table.h"
#include "engine/report/time_buckets.h"

namespace vox::report_internal {

// The key id of rows with no dimension value (kNoKey).
inline constexpr uint32_t kNoKeyId = UINT32_MAX;

// Adds without undefined behaviour on overflow.
inline void WrapAdd(int64_t& cell, int64_t v) {
  cell = static_cast<int64_t>(static_cast<uint64_t>(cell) + static_cast<uint64_t>(v));
}

class SeriesBuilder {
 public:
  // `key_space`: key ids are below it (plus kNoKeyId), or 0 when unbounded.
  // A small bucket x key grid finds slots in a dense table; a large or
  // unbounded one in a hash map.
  SeriesBuilder(const TimeBuckets& buckets, size_t cells, size_t key_space = 0)
      : buckets_(buckets), cells_(cells), key_space_(key_space) {
    if (key_space > 0 && buckets.count() * (key_space + 1) <= kMaxDenseSlots) {
      dense_.assign(buckets.count() * (key_space + 1), kNoSlot);
    }
  }

  // The slot of (bucket, key), created on first use with zero cells.
  uint32_t Slot(uint32_t bucket, uint32_t key) {
    if (!dense_.empty() && (key < key_space_ || key == kNoKeyId)) {
      const size_t i = size_t{bucket} * (key_space_ + 1) + (key == kNoKeyId ? key_space_ : key);
      if (dense_[i] == kNoSlot) dense_[i] = NewSlot(bucket, key);
      return dense_[i];
    }
    const uint64_t k = (uint64_t{bucket} << 32) | key;
    if (k == last_key_) return last_slot_;  // rows come mostly in time order
    auto [it, inserted] = slots_.try_emplace(k, static_cast<uint32_t>(keys_.size()));
    if (inserted) NewSlot(bucket, key);
    last_key_ = k;
    last_slot_ = it->second;
    return last_slot_;
  }
  uint32_t SlotAt(Timestamp t, uint32_t key) { return Slot(buckets_.IndexOf(t), key); }

  int64_t* cells(uint32_t slot) { return values_.data() + size_t{slot} * cells_; }
  void Add(uint32_t slot, size_t cell, int64_t v) { WrapAdd(cells(slot)[cell], v); }

  size_t slot_count() const { return keys_.size(); }
  uint32_t bucket_of(uint32_t slot) const { return static_cast<uint32_t>(keys_[slot] >> 32); }
  uint32_t key_of(uint32_t slot) const { return static_cast<uint32_t>(keys_[slot]); }
  const TimeBuckets& buckets() const { return buckets_; }

  // `key_name(uint32_t key) -> std::string` names keys other than kNoKeyId
  // (unused when `dimension` is empty); `derive(uint32_t slot, const
  // int64_t* cells, double* out)` writes one value per column.
  template <typename KeyName, typename Derive>
  ReportTable Finish(std::string dimension, std::vector<std::string> columns, KeyName&& key_name,
                     Derive&& derive) {
    ReportTable table;
    table.dimension = std::move(dimension);
    table.buckets = buckets_.starts();
    table.rows.reserve(keys_.size());
    for (uint32_t s = 0; s < keys_.size(); ++s) {
      ReportRow row;
      row.bucket_start = buckets_.start(bucket_of(s));
      if (!table.dimension.empty()) {
        row.key = key_of(s) == kNoKeyId ? std::string(kNoKey) : std::string(key_name(key_of(s)));
      }
      row.values.assign(columns.size(), 0);
      derive(s, cells(s), row.values.data());
      table.rows.push_back(std::move(row));
    }
    std::sort(table.rows.begin(), table.rows.end(), [](const ReportRow& a, const ReportRow& b) {
      return a.bucket_start != b.bucket_start ? a.bucket_start < b.bucket_start : a.key < b.key;
    });
    table.columns = std::move(columns);
    return table;
  }

 private:
  static constexpr size_t kMaxDenseSlots = size_t{1} << 20;
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  uint32_t NewSlot(uint32_t bucket, uint32_t key) {
    keys_.push_back((uint64_t{bucket} << 32) | key);
    values_.resize(values_.size() + cells_, 0);
    return static_cast<uint32_t>(keys_.size() - 1);
  }

  const TimeBuckets& buckets_;
  size_t cells_;
  size_t key_space_;
  std::vector<uint32_t> dense_;  // bucket * (key_space + 1) + key -> slot
  absl::flat_hash_map<uint64_t, uint32_t> slots_;
  std::vector<uint64_t> keys_;  // per slot: bucket << 32 | key
  std::vector<int64_t> values_;
  uint64_t last_key_ = UINT64_MAX;
  uint32_t last_slot_ = 0;
};

// a / b, or 0 when b is 0.
inline double Ratio(int64_t a, int64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

// Exact percentiles by the nearest-rank method: the p-th percentile of n
// values is the ceil(p * n)-th smallest (so p50 of {1,2,3,4} is 2). Keeps
// every value with its slot; Compute() groups them by slot (a counting
// scatter) and selects the ranks with nth_element: O(values) expected.
class ValueCollector {
 public:
  static constexpr std::array<int, 3> kPercents = {50, 90, 99};
  struct Stats {
    int64_t n = 0;
    std::array<int64_t, 3> p{};  // p50, p90, p99; 0 when n == 0
    int64_t max = 0;
  };

  void Add(uint32_t slot, int64_t value) {
    slots_.push_back(slot);
    values_.push_back(value);
  }
  // Computes per slot, for slots [0, slot_count).
  void Compute(size_t slot_count) {
    std::vector<size_t> begin(slot_count + 1, 0);
    for (uint32_t s : slots_) ++begin[s + 1];
    for (size_t s = 0; s < slot_count; ++s) begin[s + 1] += begin[s];
    std::vector<int64_t> grouped(values_.size());
    std::vector<size_t> at(begin.begin(), begin.end() - 1);
    for (size_t i = 0; i < values_.size(); ++i) grouped[at[slots_[i]]++] = values_[i];
    stats_.assign(slot_count, {});
    for (size_t s = 0; s < slot_count; ++s) {
      const auto first = grouped.begin() + static_cast<ptrdiff_t>(begin[s]);
      const auto last = grouped.begin() + static_cast<ptrdiff_t>(begin[s + 1]);
      const int64_t n = last - first;
      if (n == 0) continue;
      Stats& st = stats_[s];
      st.n = n;
      auto from = first;
      for (size_t q = 0; q < kPercents.size(); ++q) {
        const int64_t rank = (n * kPercents[q] + 99) / 100;  // ceil(p * n), >= 1
        const auto nth = first + (rank - 1);
        if (nth >= from) std::nth_element(from, nth, last);  // ranks only grow
        st.p[q] = *nth;
        from = nth + 1;
      }
      st.max = *std::max_element(first + ((n * kPercents.back() + 99) / 100 - 1), last);
    }
    slots_ = {};
    values_ = {};
  }
  const Stats& stats(uint32_t slot) const { return stats_[slot]; }

 private:
  std::vector<uint32_t> slots_;
  std::vector<int64_t> values_;
  std::vector<Stats> stats_;
};

// Distinct ids per slot (e.g. users who logged in), counted exactly.
class DistinctCounter {
 public:
  void Add(uint32_t slot, uint32_t id) { pairs_.push_back((uint64_t{slot} << 32) | id); }
  void Compute(size_t slot_count) {
    std::sort(pairs_.begin(), pairs_.end());
    counts_.assign(slot_count, 0);
    for (size_t i = 0; i < pairs_.size(); ++i) {
      if (i == 0 || pairs_[i] != pairs_[i - 1]) ++counts_[pairs_[i] >> 32];
    }
    pairs_.clear();
    pairs_.shrink_to_fit();
  }
  int64_t count(uint32_t slot) const { return counts_[slot]; }

 private:
  std::vector<uint64_t> pairs_;
  std::vector<int64_t> counts_;
};

}  // namespace vox::report_internal

#endif  // VOXDB_ENGINE_REPORT_INTERNAL_SERIES_BUILDER_H_
