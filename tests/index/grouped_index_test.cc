#include "index/grouped_index.h"

#include <random>
#include <utility>
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

// MemoryBytes keeps a running count; it must equal a recount after any mix
// of appends, out-of-order inserts, duplicates, erases that empty groups,
// a bulk load and a clear.
TEST(GroupedIndexTest, MemoryBytesKeepsCountWithEveryChange) {
  GroupedIndex index;
  std::mt19937_64 rng(11);
  std::vector<std::pair<uint32_t, GroupEntry>> inserted;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t group = static_cast<uint32_t>(rng() % 300);
    if (!inserted.empty() && rng() % 3 == 0) {
      const size_t at = rng() % inserted.size();
      ASSERT_TRUE(index.Erase(inserted[at].first, inserted[at].second));
      inserted[at] = inserted.back();
      inserted.pop_back();
    } else {
      const GroupEntry e = GroupEntry::Make(rng() % 5000, static_cast<RowId>(rng() % 100000));
      if (index.Insert(group, e)) inserted.push_back({group, e});
    }
    if (i % 997 == 0) {
      ASSERT_EQ(index.MemoryBytes(), index.RecountMemoryBytes()) << i;
    }
  }
  EXPECT_EQ(index.MemoryBytes(), index.RecountMemoryBytes());
  for (const auto& [group, e] : inserted) ASSERT_TRUE(index.Erase(group, e));
  EXPECT_EQ(index.group_count(), 0u);
  EXPECT_EQ(index.MemoryBytes(), index.RecountMemoryBytes());
  index.Clear();
  std::vector<std::pair<uint32_t, GroupEntry>> sorted;
  for (uint32_t g = 0; g < 50; ++g) {
    for (uint64_t k = 0; k <= g; ++k) sorted.push_back({g, GroupEntry::Make(k, g * 100 + k)});
  }
  index.LoadSorted(sorted);
  EXPECT_EQ(index.MemoryBytes(), index.RecountMemoryBytes());
  EXPECT_GT(index.MemoryBytes(), sorted.size() * sizeof(GroupEntry));
  index.Clear();
  EXPECT_EQ(index.MemoryBytes(), index.RecountMemoryBytes());
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
