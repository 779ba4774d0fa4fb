// TableIndex binds an IndexDef to a table: it computes each row's key from
// the table's columns, applies the partial-index predicate, and keeps an
// index/ container in step with the rows. Table drives it on every write.
// Thread-compatible: the engine thread is its only writer.
#ifndef VOXDB_ENGINE_TABLE_INDEX_H_
#define VOXDB_ENGINE_TABLE_INDEX_H_

#include <array>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/value.h"
#include "index/grouped_index.h"
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
  // Loading: adds `rows` (live, ascending) to an empty index, faster than
  // one Insert each. AlreadyExists naming the row on a unique clash.
  virtual absl::Status BulkInsert(std::span<const RowId> rows);
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

  // For a table's primary key: rows whose id carries their own row id
  // (SelfLocated) are found without the index and are left out of it.
  void SkipSelfLocated() { skip_self_located_ = true; }
  static bool SelfLocated(const Uuid& id, RowId row) { return static_cast<RowId>(id.lo) == row; }

  // The row whose key equals `key` (one Value per key part), or kNoRow.
  RowId Find(std::span<const Value> key) const { return index_.Find(key); }
  // The other row already holding `row`'s key, or kNoRow.
  RowId Conflict(RowId row) const;

  bool Insert(RowId row) override;
  void Erase(RowId row) override;
  absl::Status BulkInsert(std::span<const RowId> rows) override;
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
  bool Indexed(RowId row) const;

  Access access_;
  UniqueHashIndex<Access> index_;
  bool skip_self_located_ = false;
};

// An index that lists rows in key order under a key prefix.
class RangeIndex : public TableIndex {
 public:
  // Calls fn(row) for the rows whose first prefix.size() key parts equal
  // `prefix` (ints, timestamps, enums, RowIds of refs), in key order, while
  // fn returns true. Returns how many rows it visited.
  virtual size_t ScanPrefix(std::initializer_list<int64_t> prefix,
                            absl::FunctionRef<bool(RowId)> fn) const = 0;

 protected:
  using TableIndex::TableIndex;
};

// An ordered index over packed keys (see KeyPacker): ranges and order.
class OrderedTableIndex final : public RangeIndex {
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

  size_t ScanPrefix(std::initializer_list<int64_t> prefix,
                    absl::FunctionRef<bool(RowId)> fn) const override {
    auto [lo, hi] = PrefixRange(prefix);
    return tree_.Scan(lo, hi, [&](IndexKey k) { return fn(RowOf(k)); });
  }

  bool Insert(RowId row) override;
  void Erase(RowId row) override;
  absl::Status BulkInsert(std::span<const RowId> rows) override;
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

// A grouped index (see GroupedIndex): for each value of its first key part,
// the rows with that value sorted by the remaining parts.
class GroupedTableIndex final : public RangeIndex {
 public:
  GroupedTableIndex(const IndexDef& def, const Table& table);

  // The prefix's first value is the group; any further values narrow the
  // group's rows to those whose leading sort parts equal them.
  size_t ScanPrefix(std::initializer_list<int64_t> prefix,
                    absl::FunctionRef<bool(RowId)> fn) const override;
  // The group's rows in key order (newest first for a descending sort),
  // starting just after the entry `after` when given (a page cursor).
  size_t ScanGroup(int64_t group, std::optional<GroupEntry> after,
                   absl::FunctionRef<bool(RowId)> fn) const;
  // The entry `row` has (or would have) in this index: a page cursor.
  GroupEntry EntryOf(RowId row) const { return GroupEntry::Make(SortKey(row), row); }
  // The group's entries in ascending (sort, row) order: the key order of an
  // ascending index, its reverse for a descending one. Valid until the next
  // write to the table.
  std::span<const GroupEntry> Group(int64_t group) const {
    return index_.Group(static_cast<uint32_t>(group));
  }
  bool descending() const { return descending_; }

  bool Insert(RowId row) override;
  void Erase(RowId row) override;
  absl::Status BulkInsert(std::span<const RowId> rows) override;
  size_t size() const override { return index_.size(); }
  size_t MemoryBytes() const override { return index_.MemoryBytes(); }
  void Clear() override { index_.Clear(); }
  absl::Status Verify() const override;

 private:
  uint32_t GroupOf(RowId row) const;
  uint64_t SortKey(RowId row) const;
  // Packs sort-part values (parts 1.. of the key) from the top bit down;
  // `*used` receives the bits they take.
  uint64_t PackSort(const int64_t* values, size_t count, int* used) const;

  GroupedIndex index_;
  bool descending_ = false;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_TABLE_INDEX_H_
