#include "index/grouped_index.h"

#include <vector>

#include "gtest/gtest.h"

namespace vox {
namespace {

std::vector<RowId> Rows(std::span<const GroupEntry> entries) {
  std::vector<RowId> out;
  for (const GroupEntry& e : entries) out.push_back(e.row);
  return out;
}

TEST(GroupedIndexTest, KeepsEachGroupSortedWhateverTheArrivalOrder) {
  GroupedIndex index;
  ASSERT_TRUE(index.Insert(7, GroupEntry::Make(30, 3)));
  ASSERT_TRUE(index.Insert(7, GroupEntry::Make(10, 1)));  // older: not an append
  ASSERT_TRUE(index.Insert(7, GroupEntry::Make(20, 2)));
  ASSERT_TRUE(index.Insert(7, GroupEntry::Make(20, 0)));  // same time: row id breaks the tie
  ASSERT_TRUE(index.Insert(8, GroupEntry::Make(5, 9)));
  EXPECT_FALSE(index.Insert(7, GroupEntry::Make(20, 2)));  // duplicate
  EXPECT_EQ(Rows(index.Group(7)), (std::vector<RowId>{1, 0, 2, 3}));
  EXPECT_EQ(Rows(index.Group(8)), (std::vector<RowId>{9}));
  EXPECT_TRUE(index.Group(9).empty());
  EXPECT_EQ(index.size(), 5u);
}

TEST(GroupedIndexTest, EraseRemovesExactlyTheEntryAndEmptyGroups) {
  GroupedIndex index;
  ASSERT_TRUE(index.Insert(1, GroupEntry::Make(1ull << 40, 4)));
  ASSERT_TRUE(index.Insert(1, GroupEntry::Make(2ull << 40, 5)));
  EXPECT_FALSE(index.Erase(1, GroupEntry::Make(1ull << 40, 5)));  // right key, wrong row
  EXPECT_FALSE(index.Erase(2, GroupEntry::Make(1ull << 40, 4)));  // wrong group
  EXPECT_TRUE(index.Erase(1, GroupEntry::Make(1ull << 40, 4)));
  EXPECT_EQ(Rows(index.Group(1)), (std::vector<RowId>{5}));
  EXPECT_TRUE(index.Erase(1, GroupEntry::Make(2ull << 40, 5)));
  EXPECT_EQ(index.group_count(), 0u);
  EXPECT_EQ(index.size(), 0u);
}

TEST(GroupedIndexTest, SortKeysCompareAsFullSixtyFourBitValues) {
  // The key is split in two 32-bit words: the high word must dominate.
  const GroupEntry a = GroupEntry::Make(0x00000001'00000000ull, 1);
  const GroupEntry b = GroupEntry::Make(0x00000000'ffffffffull, 2);
  EXPECT_TRUE(b < a);
  EXPECT_EQ(a.sort(), 0x00000001'00000000ull);
}

}  // namespace
}  // namespace vox
