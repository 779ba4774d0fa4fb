// UniqueHashIndex maps a unique key to the RowId holding it. It stores the
// row id and 32 bits of the key's hash (8 bytes a slot): keys are read from
// the table through `Access` only to confirm a match, so a string key is
// never copied and growing the table never touches the rows. Point lookups only; for ranges and
// ordered scans use OrderedIndex.
// Thread-compatible: the engine thread is its only writer.
//
// `Access` supplies:
//   using Probe = ...;                       // a key to look up
//   size_t HashRow(RowId) const;             // hash of a row's key
//   size_t HashProbe(const Probe&) const;    // must agree with HashRow
//   bool RowEqualsRow(RowId, RowId) const;
//   bool RowEqualsProbe(RowId, const Probe&) const;
#ifndef VOXDB_INDEX_HASH_INDEX_H_
#define VOXDB_INDEX_HASH_INDEX_H_

#include <cstddef>

#include "absl/container/flat_hash_set.h"
#include "schema/types.h"

namespace vox {

template <typename Access>
class UniqueHashIndex {
 public:
  using Probe = typename Access::Probe;

  // `access` must outlive this index.
  explicit UniqueHashIndex(const Access& access)
      : access_(&access), set_(0, Hasher{}, Equal{&access}) {}

  UniqueHashIndex(const UniqueHashIndex&) = delete;
  UniqueHashIndex& operator=(const UniqueHashIndex&) = delete;

  // The row whose key equals `probe`, or kNoRow.
  RowId Find(const Probe& probe) const {
    auto it = set_.find(ProbeRef{&probe, Fragment(access_->HashProbe(probe))});
    return it == set_.end() ? kNoRow : RowOf(*it);
  }

  // The row already holding `row`'s key, or kNoRow.
  RowId FindConflict(RowId row) const {
    auto it = set_.find(Slot(row));
    return it == set_.end() ? kNoRow : RowOf(*it);
  }

  // False (and no change) if another row holds the same key.
  bool Insert(RowId row) { return set_.insert(Slot(row)).second; }

  // Removes `row`, located by its current key. False if it was not there.
  bool Erase(RowId row) {
    auto it = set_.find(Slot(row));
    if (it == set_.end() || RowOf(*it) != row) return false;
    set_.erase(it);
    return true;
  }

  size_t size() const { return set_.size(); }
  void Clear() { set_.clear(); }
  void Reserve(size_t n) { set_.reserve(n); }
  size_t MemoryBytes() const { return set_.capacity() * (sizeof(uint64_t) + 1); }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint64_t slot : set_) fn(RowOf(slot));
  }

 private:
  // A slot holds the row id and 32 bits of its key's hash: growing the
  // table and most mismatches need no read of the row itself.
  static uint32_t Fragment(size_t hash) { return static_cast<uint32_t>(hash ^ (hash >> 32)); }
  static RowId RowOf(uint64_t slot) { return static_cast<RowId>(slot); }
  static uint32_t FragmentOf(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  uint64_t Slot(RowId row) const { return (uint64_t{Fragment(access_->HashRow(row))} << 32) | row; }
  // Spreads a 32-bit fragment over 64 bits for the table's probing.
  static size_t Spread(uint32_t fragment) {
    return static_cast<size_t>(fragment) * 0x9e3779b97f4a7c15ULL;
  }

  struct ProbeRef {
    const Probe* probe;
    uint32_t fragment;
  };
  struct Hasher {
    using is_transparent = void;
    size_t operator()(uint64_t slot) const { return Spread(FragmentOf(slot)); }
    size_t operator()(ProbeRef p) const { return Spread(p.fragment); }
  };
  struct Equal {
    using is_transparent = void;
    const Access* access;
    bool operator()(uint64_t a, uint64_t b) const {
      return a == b || (FragmentOf(a) == FragmentOf(b) && access->RowEqualsRow(RowOf(a), RowOf(b)));
    }
    bool operator()(ProbeRef p, uint64_t slot) const {
      return FragmentOf(slot) == p.fragment && access->RowEqualsProbe(RowOf(slot), *p.probe);
    }
    bool operator()(uint64_t slot, ProbeRef p) const { return (*this)(p, slot); }
  };

  const Access* access_;
  absl::flat_hash_set<uint64_t, Hasher, Equal> set_;
};

}  // namespace vox

#endif  // VOXDB_INDEX_HASH_INDEX_H_
