// GroupedIndex keeps, for each group (a parent row: a room, a user, a
// wallet), the rows of that group in one contiguous vector sorted by a
// 64-bit sort key, then row id. It is made for the platform's "children of
// a parent, newest first" queries: rows mostly arrive in time order, so an
// insert is an append, and a page of 100 is one contiguous read, where a
// B-tree over tens of millions of keys pays several cache misses for each.
// Erase is linear in the group's size: use it for groups of up to
// thousands, with ordered (OrderedIndex) indexes for global orders.
// Thread-compatible: the engine thread is its only writer.
#ifndef VOXDB_INDEX_GROUPED_INDEX_H_
#define VOXDB_INDEX_GROUPED_INDEX_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "schema/types.h"

namespace vox {

// 12 bytes: the sort key split in two words keeps the entry 4-aligned.
struct GroupEntry {
  uint32_t sort_hi;
  uint32_t sort_lo;
  RowId row;

  uint64_t sort() const { return (uint64_t{sort_hi} << 32) | sort_lo; }
  static GroupEntry Make(uint64_t sort, RowId row) {
    return {static_cast<uint32_t>(sort >> 32), static_cast<uint32_t>(sort), row};
  }
  friend bool operator<(const GroupEntry& a, const GroupEntry& b) {
    return a.sort() != b.sort() ? a.sort() < b.sort() : a.row < b.row;
  }
  friend bool operator==(const GroupEntry& a, const GroupEntry& b) {
    return a.sort() == b.sort() && a.row == b.row;
  }
};
static_assert(sizeof(GroupEntry) == 12);

class GroupedIndex {
 public:
  // False if the entry was already present.
  bool Insert(uint32_t group, GroupEntry e);
  // False if the entry was absent.
  bool Erase(uint32_t group, GroupEntry e);
  // Bulk load into an empty index: `entries` sorted by group, then entry,
  // without duplicates. Each group's vector is allocated once, exactly.
  void LoadSorted(std::span<const std::pair<uint32_t, GroupEntry>> entries);

  // The group's entries in ascending (sort, row) order; empty if none.
  // Valid until the next write to this index.
  std::span<const GroupEntry> Group(uint32_t group) const {
    auto it = groups_.find(group);
    if (it == groups_.end()) return {};
    return it->second;
  }

  size_t size() const { return size_; }
  size_t group_count() const { return groups_.size(); }
  // Bytes held: the group table and every group's vector (its capacity and
  // a malloc header). O(1): the vectors' share is kept up to date as they
  // grow and go, since walking millions of groups took the engine thread
  // 70 ms at SF=1 (the server samples it for its metrics).
  size_t MemoryBytes() const;
  // The same, counted group by group (tests check the running count).
  size_t RecountMemoryBytes() const;
  void Clear() {
    groups_.clear();
    size_ = 0;
    vector_bytes_ = 0;
  }

  // Calls fn(group, entry) for every entry (checks and rebuilds).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [g, entries] : groups_) {
      for (const GroupEntry& e : entries) fn(g, e);
    }
  }

 private:
  static constexpr size_t kGroupOverhead = 16;  // a vector's malloc header

  absl::flat_hash_map<uint32_t, std::vector<GroupEntry>> groups_;
  size_t size_ = 0;
  size_t vector_bytes_ = 0;  // sum of the groups' vector capacities + headers
};

}  // namespace vox

#endif  // VOXDB_INDEX_GROUPED_INDEX_H_
