#include "bench/voxbench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace vox::bench {

int Histogram::BucketOf(uint64_t nanos) {
  constexpr uint64_t kLinear = uint64_t{1} << (kSubBits + 1);  // 128: exact below
  if (nanos < kLinear) return static_cast<int>(nanos);
  const uint64_t top = (uint64_t{1} << kMaxBits) - 1;
  if (nanos > top) nanos = top;
  const int magnitude = std::bit_width(nanos) - 1;  // >= kSubBits + 1
  const int shift = magnitude - kSubBits;
  // (nanos >> shift) is in [64, 128): the step within this power of two.
  return (shift << kSubBits) + static_cast<int>(nanos >> shift);
}

uint64_t Histogram::BucketHigh(int bucket) {
  constexpr int kLinear = 1 << (kSubBits + 1);
  if (bucket < kLinear) return static_cast<uint64_t>(bucket);
  const int shift = (bucket >> kSubBits) - 1;
  const uint64_t step = static_cast<uint64_t>(bucket - (shift << kSubBits));
  return ((step + 1) << shift) - 1;
}

void Histogram::Record(uint64_t nanos) {
  ++counts_[BucketOf(nanos)];
  ++count_;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(BucketHigh(i), max_);
  }
  return max_;
}

}  // namespace vox::bench
