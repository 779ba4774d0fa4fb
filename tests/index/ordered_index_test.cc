#include "index/ordered_index.h"

#include <vector>

#include "gtest/gtest.h"

namespace vox {
namespace {

TEST(KeyPackerTest, DescendingFieldsSortNewestFirst) {
  std::vector<IndexKey> keys;
  for (int64_t ts : {100, 300, 200}) {
    keys.push_back(KeyPacker().AddUnsigned(7, 32, false).AddSigned(ts, 64, true).Finish(1));
  }
  EXPECT_LT(keys[1], keys[2]);  // 300 before 200
  EXPECT_LT(keys[2], keys[0]);  // 200 before 100
}

TEST(KeyPackerTest, NegativeSignedValuesSortBeforePositive) {
  const IndexKey neg = KeyPacker().AddSigned(-5, 64, false).Finish(0);
  const IndexKey pos = KeyPacker().AddSigned(5, 64, false).Finish(0);
  EXPECT_LT(neg, pos);
}

TEST(OrderedIndexTest, PrefixScanVisitsOnlyThePrefixInOrder) {
  OrderedIndex index;
  for (uint32_t room : {1u, 2u, 3u}) {
    for (RowId row = 0; row < 5; ++row) {
      ASSERT_TRUE(index.Insert(KeyPacker().AddUnsigned(room, 32, false).Finish(room * 10 + row)));
    }
  }
  EXPECT_FALSE(index.Insert(KeyPacker().AddUnsigned(2, 32, false).Finish(21)));  // duplicate
  KeyPacker prefix;
  prefix.AddUnsigned(2, 32, false);
  std::vector<RowId> rows;
  index.Scan(prefix.Low(), prefix.High(), [&](IndexKey k) {
    rows.push_back(KeyRow(k));
    return true;
  });
  EXPECT_EQ(rows, (std::vector<RowId>{20, 21, 22, 23, 24}));
  EXPECT_TRUE(index.Erase(KeyPacker().AddUnsigned(2, 32, false).Finish(22)));
  EXPECT_FALSE(index.Erase(KeyPacker().AddUnsigned(2, 32, false).Finish(22)));
  size_t n = index.Scan(prefix.Low(), prefix.High(), [](IndexKey) { return false; });
  EXPECT_EQ(n, 1u);  // stopped after the first
}

}  // namespace
}  // namespace vox
