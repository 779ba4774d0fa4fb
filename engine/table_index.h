// TableIndex binds an IndexDef to a table: it computes each row's key from
// the table's columns, applies the partial-index predicate, and keeps an
// index/ container in step with the rows. Table drives it on every write.
// Thread-compatible: the engine thread is its only writer.
#ifndef VOXDB_ENGINE_TABLE_INDEX_H_
#define VOXDB_ENGINE_TABLE_INDEX_H_

#include <array>
#include <initializer_list>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "engine/value.h"
#include "index/hash_index.h"
#include "index/ordered_index.h"
#include "schema/schema.h"

namespace vox {

class Table;

class TableIndex {
 public:
  // `table` must outlive the index.
  static std::unique_ptr<TableIndex> Create(const IndexDef& def, const Table& table);
  virtual ~TableIndex() = default;

  const IndexDef& def() const { return def_; }
  // Whether `row` satisfies the partial-index predicate (always, if none).
  bool Matches(RowId row) const;

  // Adds `row` if it matches. False, with no change, if a unique key clashes.
  virtual bool Insert(RowId row) = 0;
  // Removes `row` as keyed by its current values, if it matches.
  virtual void Erase(RowId row) = 0;
  virtual size_t size() const = 0;
  virtual size_t MemoryBytes() const = 0;
  virtual void Clear() = 0;
  // Checks that the index holds exactly what a full scan of the table gives.
  virtual absl::Status Verify() const = 0;

 protected:
  TableIndex(const IndexDef& def, const Table& table) : def_(def), table_(table) {}
  const IndexDef& def_;
  const Table& table_;
};

// A unique hash index: point lookups by the full key.
class HashTableIndex final : public TableIndex {
 public:
  HashTableIndex(const IndexDef& def, const Table& table);

  // The row whose key equals `key` (one Value per key part), or kNoRow.
  RowId Find(std::span<const Value> key) const { return index_.Find(key); }
  // The other row already holding `row`'s key, or kNoRow.
  RowId Conflict(RowId row) const;

  bool Insert(RowId row) override;
  void Erase(RowId row) override;
  size_t size() const override { return index_.size(); }
  size_t MemoryBytes() const override { return index_.MemoryBytes(); }
  void Clear() override { index_.Clear(); }
  absl::Status Verify() const override;

  struct Access {
    using Probe = std::span<const Value>;
    const IndexDef* def;
    const Table* table;
    size_t HashRow(RowId r) const;
    size_t HashProbe(const Probe& p) const;
    bool RowEqualsRow(RowId a, RowId b) const;
    bool RowEqualsProbe(RowId r, const Probe& p) const;
  };

 private:
  Access access_;
  UniqueHashIndex<Access> index_;
};

// An ordered index over packed keys (see KeyPacker): ranges and order.
class OrderedTableIndex final : public TableIndex {
 public:
  OrderedTableIndex(const IndexDef& def, const Table& table);

  const OrderedIndex& tree() const { return tree_; }

  // The range of keys whose first prefix.size() parts equal `prefix`
  // (ints, timestamps, enums, RowIds of refs; given in key order).
  std::pair<IndexKey, IndexKey> PrefixRange(std::initializer_list<int64_t> prefix) const;
  // Encodes a full key (one value per part) for `row`.
  IndexKey KeyFor(std::initializer_list<int64_t> parts, RowId row) const;

  // The row a key of this index points at. When the last key part is
  // descending the row id is stored complemented, so that ties on that part
  // also list the newest row first.
  RowId RowOf(IndexKey key) const { return row_descending_ ? ~KeyRow(key) : KeyRow(key); }

  // Calls fn(row) for rows under `prefix` in key order while fn returns true.
  template <typename Fn>
  size_t ScanPrefix(std::initializer_list<int64_t> prefix, Fn&& fn) const {
    auto [lo, hi] = PrefixRange(prefix);
    return tree_.Scan(lo, hi, [&](IndexKey k) { return fn(RowOf(k)); });
  }

  bool Insert(RowId row) override;
  void Erase(RowId row) override;
  size_t size() const override { return tree_.size(); }
  size_t MemoryBytes() const override { return tree_.MemoryBytes(); }
  void Clear() override { tree_.Clear(); }
  absl::Status Verify() const override;

 private:
  // Calls fn(key) for each key of `row` (several for a tags column).
  template <typename Fn>
  void ForEachKey(RowId row, Fn&& fn) const;
  KeyPacker& AddPart(KeyPacker& p, size_t part, int64_t value) const;
  RowId EncodedRow(RowId row) const { return row_descending_ ? ~row : row; }

  // Each key part's encoding, worked out once from the schema.
  struct Part {
    ColumnId column;
    uint8_t bits;
    bool is_signed;
    bool descending;
  };
  OrderedIndex tree_;
  std::array<Part, kMaxKeyParts> parts_{};
  int tag_part_ = -1;  // the part that is a tags column, if any
  bool row_descending_;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_TABLE_INDEX_H_
