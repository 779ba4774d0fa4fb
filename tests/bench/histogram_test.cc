#include "bench/voxbench/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace vox::bench {
namespace {

// The exact nearest-rank quantile of `sorted`.
uint64_t Exact(const std::vector<uint64_t>& sorted, double q) {
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * sorted.size())));
  return sorted[rank - 1];
}

TEST(HistogramTest, EmptyAnswersZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Quantile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 128; ++v) h.Record(v);
  EXPECT_EQ(h.Quantile(0.5), 63u);
  EXPECT_EQ(h.Quantile(1.0), 127u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 127u);
}

TEST(HistogramTest, BucketsCoverEveryValueInOrder) {
  // Every value lands in a bucket whose top is >= it and within 1/64 of it,
  // and buckets never go backwards.
  int last = -1;
  for (uint64_t v = 0; v < (uint64_t{1} << 22); v += 1 + v / 500) {
    const int b = Histogram::BucketOf(v);
    ASSERT_GE(b, last) << v;
    last = b;
    const uint64_t high = Histogram::BucketHigh(b);
    ASSERT_GE(high, v) << v;
    ASSERT_LE(high - v, v / 64 + 1) << v;
  }
  EXPECT_LT(Histogram::BucketOf(UINT64_MAX), Histogram::kBuckets);
}

TEST(HistogramTest, QuantilesWithinPrecisionOfExact) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(20000.0), 0.8);  // ~20 us median
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = static_cast<uint64_t>(latency(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = static_cast<double>(Exact(values, q));
    const double got = static_cast<double>(h.Quantile(q));
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(got, exact * (1 + 1.0 / 64) + 1) << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  for (uint64_t v = 1; v < 100000; v += 37) {
    (v % 2 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.mean(), all.mean());
  for (double q : {0.1, 0.5, 0.99, 1.0}) EXPECT_EQ(a.Quantile(q), all.Quantile(q)) << q;
}

TEST(HistogramTest, HugeValuesAreClampedNotLost) {
  Histogram h;
  h.Record(UINT64_MAX / 2);
  h.Record(5);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.Quantile(0.5), 5u);
  EXPECT_GT(h.Quantile(1.0), uint64_t{1} << 39);
}

}  // namespace
}  // namespace vox::bench
