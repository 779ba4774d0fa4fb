#include "index/grouped_index.h"

#include <algorithm>

namespace vox {

bool GroupedIndex::Insert(uint32_t group, GroupEntry e) {
  std::vector<GroupEntry>& v = groups_[group];
  const size_t capacity = v.capacity();
  if (v.empty()) vector_bytes_ += kGroupOverhead;  // a new group
  if (v.empty() || v.back() < e) {
    v.push_back(e);  // the common case: the newest row of its group
  } else {
    auto it = std::lower_bound(v.begin(), v.end(), e);
    if (it != v.end() && *it == e) return false;
    v.insert(it, e);
  }
  vector_bytes_ += (v.capacity() - capacity) * sizeof(GroupEntry);
  ++size_;
  return true;
}

bool GroupedIndex::Erase(uint32_t group, GroupEntry e) {
  auto g = groups_.find(group);
  if (g == groups_.end()) return false;
  std::vector<GroupEntry>& v = g->second;
  auto it = std::lower_bound(v.begin(), v.end(), e);
  if (it == v.end() || !(*it == e)) return false;
  v.erase(it);
  if (v.empty()) {
    vector_bytes_ -= v.capacity() * sizeof(GroupEntry) + kGroupOverhead;
    groups_.erase(g);
  }
  --size_;
  return true;
}

void GroupedIndex::LoadSorted(std::span<const std::pair<uint32_t, GroupEntry>> entries) {
  VOX_DCHECK(size_ == 0);
  for (size_t i = 0; i < entries.size();) {
    size_t j = i;
    while (j < entries.size() && entries[j].first == entries[i].first) ++j;
    std::vector<GroupEntry>& v = groups_[entries[i].first];
    v.reserve(j - i);
    for (size_t k = i; k < j; ++k) v.push_back(entries[k].second);
    vector_bytes_ += v.capacity() * sizeof(GroupEntry) + kGroupOverhead;
    size_ += j - i;
    i = j;
  }
}

size_t GroupedIndex::MemoryBytes() const {
  return groups_.capacity() * (sizeof(uint32_t) + sizeof(std::vector<GroupEntry>) + 1) +
         vector_bytes_;
}

size_t GroupedIndex::RecountMemoryBytes() const {
  size_t n = groups_.capacity() * (sizeof(uint32_t) + sizeof(std::vector<GroupEntry>) + 1);
  for (const auto& [g, v] : groups_) n += v.capacity() * sizeof(GroupEntry) + kGroupOverhead;
  return n;
}

}  // namespace vox
