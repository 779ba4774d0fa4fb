// OrderedIndex is a B-tree set of 128-bit packed keys, each ending in the
// RowId it points at. Composite, descending and multi-valued keys are all
// packed into the 128 bits by KeyPacker, so one compact container
// (16 bytes a key, one integer compare) serves every ordered index.
// For point lookups on unique keys use UniqueHashIndex.
// Thread-compatible: the engine thread is its only writer.
#ifndef VOXDB_INDEX_ORDERED_INDEX_H_
#define VOXDB_INDEX_ORDERED_INDEX_H_

#include <cstdint>
#include <span>

#include "absl/container/btree_set.h"

#ifndef VOX_BTREE_NODE_BYTES
#define VOX_BTREE_NODE_BYTES 256
#endif
#include "absl/numeric/int128.h"
#include "schema/types.h"

namespace vox {

using IndexKey = absl::uint128;

// The row a key points at: its low 32 bits.
inline RowId KeyRow(IndexKey key) { return static_cast<RowId>(absl::Uint128Low64(key)); }

// Packs fields into an IndexKey from the most significant bit down; the row
// id always takes the lowest 32 bits. Signed fields are offset so that they
// sort as unsigned; descending fields are complemented.
class KeyPacker {
 public:
  // REQUIRES: the total of `bits` over all Add calls is at most 96.
  KeyPacker& AddUnsigned(uint64_t value, int bits, bool descending) {
    VOX_DCHECK(bits > 0 && bits <= 64 && used_ + bits <= 96);
    const uint64_t mask = bits == 64 ? ~uint64_t{0} : ((uint64_t{1} << bits) - 1);
    value &= mask;
    if (descending) value = ~value & mask;
    used_ += bits;
    key_ |= IndexKey(value) << (128 - used_);
    return *this;
  }
  // Flips the sign bit of the `bits`-wide two's complement value.
  KeyPacker& AddSigned(int64_t value, int bits, bool descending) {
    const uint64_t sign = uint64_t{1} << (bits - 1);
    return AddUnsigned(static_cast<uint64_t>(value) ^ sign, bits, descending);
  }

  // The key for `row`.
  IndexKey Finish(RowId row) const { return key_ | IndexKey(row); }
  // The smallest and largest keys whose fields start with those added.
  IndexKey Low() const { return key_; }
  IndexKey High() const;

 private:
  IndexKey key_ = 0;
  int used_ = 0;  // bits used from the top
};

class OrderedIndex {
 public:
  // absl::btree_set with larger nodes than its default 256 bytes: fewer
  // levels, so fewer cache misses per insert in tables of tens of millions of
  // rows (measured: docs/benchmarks.md).
  static constexpr int kNodeBytes = VOX_BTREE_NODE_BYTES;
  using Set = absl::container_internal::btree_set_container<
      absl::container_internal::btree<absl::container_internal::set_params<
          IndexKey, std::less<IndexKey>, std::allocator<IndexKey>, kNodeBytes, false>>>;
  using const_iterator = Set::const_iterator;

  // False if the key was already present.
  bool Insert(IndexKey key) { return set_.insert(key).second; }
  // False if the key was absent.
  bool Erase(IndexKey key) { return set_.erase(key) > 0; }
  // Bulk load: REQUIRES `keys` ascending, all above the current largest key.
  void AppendSorted(std::span<const IndexKey> keys) {
    for (IndexKey k : keys) set_.insert(set_.end(), k);
  }
  bool Contains(IndexKey key) const { return set_.contains(key); }
  size_t size() const { return set_.size(); }
  void Clear() { set_.clear(); }

  const_iterator LowerBound(IndexKey key) const { return set_.lower_bound(key); }
  const_iterator begin() const { return set_.begin(); }
  const_iterator end() const { return set_.end(); }

  // Calls fn(key) for every key in [low, high], ascending, while fn returns
  // true. Returns the number of keys visited.
  template <typename Fn>
  size_t Scan(IndexKey low, IndexKey high, Fn&& fn) const {
    size_t n = 0;
    for (auto it = set_.lower_bound(low); it != set_.end() && *it <= high; ++it) {
      ++n;
      if (!fn(*it)) break;
    }
    return n;
  }

  // Bytes held by the B-tree (keys and nodes), an estimate.
  size_t MemoryBytes() const;

 private:
  Set set_;
};

}  // namespace vox

#endif  // VOXDB_INDEX_ORDERED_INDEX_H_
