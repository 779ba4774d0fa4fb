// UniqueHashIndex maps a unique key to the RowId holding it. It stores only
// row ids (4 bytes a slot): keys are read from the table through `Access`,
// so a string key is never copied. Point lookups only; for ranges and
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
      : set_(0, Hasher{&access}, Equal{&access}) {}

  UniqueHashIndex(const UniqueHashIndex&) = delete;
  UniqueHashIndex& operator=(const UniqueHashIndex&) = delete;

  // The row whose key equals `probe`, or kNoRow.
  RowId Find(const Probe& probe) const {
    auto it = set_.find(ProbeRef{&probe});
    return it == set_.end() ? kNoRow : *it;
  }

  // The row already holding `row`'s key, or kNoRow.
  RowId FindConflict(RowId row) const {
    auto it = set_.find(row);
    return it == set_.end() ? kNoRow : *it;
  }

  // False (and no change) if another row holds the same key.
  bool Insert(RowId row) { return set_.insert(row).second; }

  // Removes `row`, located by its current key. False if it was not there.
  bool Erase(RowId row) {
    auto it = set_.find(row);
    if (it == set_.end() || *it != row) return false;
    set_.erase(it);
    return true;
  }

  size_t size() const { return set_.size(); }
  void Clear() { set_.clear(); }
  void Reserve(size_t n) { set_.reserve(n); }
  size_t MemoryBytes() const { return set_.capacity() * (sizeof(RowId) + 1); }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (RowId r : set_) fn(r);
  }

 private:
  struct ProbeRef {
    const Probe* probe;
  };
  struct Hasher {
    using is_transparent = void;
    const Access* access;
    size_t operator()(RowId r) const { return access->HashRow(r); }
    size_t operator()(ProbeRef p) const { return access->HashProbe(*p.probe); }
  };
  struct Equal {
    using is_transparent = void;
    const Access* access;
    bool operator()(RowId a, RowId b) const { return a == b || access->RowEqualsRow(a, b); }
    bool operator()(ProbeRef p, RowId r) const { return access->RowEqualsProbe(r, *p.probe); }
    bool operator()(RowId r, ProbeRef p) const { return access->RowEqualsProbe(r, *p.probe); }
  };

  absl::flat_hash_set<RowId, Hasher, Equal> set_;
};

}  // namespace vox

#endif  // VOXDB_INDEX_HASH_INDEX_H_
