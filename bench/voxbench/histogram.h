// A log-linear latency histogram (the HdrHistogram layout): values in
// nanoseconds, exact below 128 ns, then 64 linear buckets per power of two,
// so any recorded value is known to within 1/64 (1.6%) of itself; at the
// microsecond latencies voxbench measures that is well under a microsecond
// of error up to 64 µs and 1.6% above. Fixed size (2,304 counters, 18 KiB),
// no allocation while recording, mergeable: each client records into its
// own and the harness adds them up.
//
// Thread-compatible.
#ifndef VOXDB_BENCH_VOXBENCH_HISTOGRAM_H_
#define VOXDB_BENCH_VOXBENCH_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace vox::bench {

class Histogram {
 public:
  // Records one value (nanoseconds); values past ~18 minutes are clamped.
  void Record(uint64_t nanos);
  void Merge(const Histogram& other);
  void Reset() { *this = Histogram(); }

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The smallest recorded value v such that at least `q` (0..1] of the
  // values are <= v, to the bucket's precision (its highest value, never
  // above max()); 0 when empty.
  uint64_t Quantile(double q) const;

  // Bucket of `nanos`, and the highest value that bucket holds.
  static int BucketOf(uint64_t nanos);
  static uint64_t BucketHigh(int bucket);

  static constexpr int kSubBits = 6;  // 64 linear steps per power of two
  static constexpr int kMaxBits = 40;  // 2^40 ns ~ 18 minutes
  static constexpr int kBuckets = (kMaxBits - kSubBits + 1) << kSubBits;

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace vox::bench

#endif  // VOXDB_BENCH_VOXBENCH_HISTOGRAM_H_
