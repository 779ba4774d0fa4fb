// Table holds one table's rows as columns (see Column) plus its indexes, and
// keeps the two in step on every write. Rows are dense RowIds; a hard-deleted
// row is marked dead and its id reused after the deleting transaction commits.
//
// Table does no undo and no validation: Txn wraps it with both. Reads are
// for the engine thread (and, later, snapshot views of pinned chunks).
// Thread-compatible.
#ifndef VOXDB_ENGINE_TABLE_H_
#define VOXDB_ENGINE_TABLE_H_

#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "engine/column.h"
#include "engine/table_index.h"
#include "engine/value.h"
#include "schema/tables.h"

namespace vox {

class Table {
 public:
  // Copies `def` and its columns: migrations change them (AddColumn, ...).
  explicit Table(const TableDef& def);
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  const TableDef& def() const { return def_; }
  TableId id() const { return def_.id; }
  void set_id(TableId id) { def_.id = id; }  // Database::TakeTable renumbering
  std::string_view name() const { return def_.name; }

  // Rows ever allocated (live or dead): scans run over [0, row_count()).
  size_t row_count() const { return row_count_; }
  size_t live_count() const { return live_count_; }
  bool IsLive(RowId r) const { return r < row_count_ && live_.Get<uint8_t>(r) != 0; }

  const Column& column(ColumnId c) const { return columns_[c]; }
  // The table's updated_at column, or UINT16_MAX if it has none.
  ColumnId updated_at_column() const { return updated_at_; }

  // ---- Reads. REQUIRES: IsLive(r).
  bool IsNull(RowId r, ColumnId c) const { return columns_[c].IsNull(r); }
  int64_t GetInt(RowId r, ColumnId c) const { return columns_[c].GetInt(r); }
  bool GetBool(RowId r, ColumnId c) const { return columns_[c].Get<uint8_t>(r) != 0; }
  Timestamp GetTime(RowId r, ColumnId c) const { return columns_[c].Get<int64_t>(r); }
  template <typename E>
  E GetEnum(RowId r, ColumnId c) const {
    return static_cast<E>(columns_[c].Get<uint8_t>(r));
  }
  // The referenced row, or kNoRow when null.
  RowId GetRef(RowId r, ColumnId c) const {
    return columns_[c].IsNull(r) ? kNoRow : columns_[c].Get<uint32_t>(r);
  }
  std::string_view GetString(RowId r, ColumnId c) const { return columns_[c].GetString(r); }
  Uuid GetUuid(RowId r, ColumnId c) const { return columns_[c].GetUuid(r); }
  Uuid id(RowId r) const { return columns_[0].GetUuid(r); }
  Value GetValue(RowId r, ColumnId c) const;

  // The live row with primary key `id`, or kNoRow.
  RowId FindById(const Uuid& id) const;

  // Indexes: [0] is the primary key's; then kIndexes' for this table, in
  // order; then those migrations added.
  size_t index_count() const { return indexes_.size(); }
  TableIndex& index(size_t i) const { return *indexes_[i]; }

  // ---- Writes, for Txn and bulk loading.
  // A fresh row with every column zero/non-null; `*reused` tells whether it
  // came from the free list. Not yet in any index.
  RowId AllocateRow(bool* reused);
  // Undoes AllocateRow (most recent first).
  void UnallocateRow(RowId r, bool reused);
  // Writes without index maintenance (the row is not indexed yet).
  void WriteValue(RowId r, ColumnId c, const Value& v);
  // Adds r to every index; on a unique clash adds it to none and returns
  // AlreadyExists naming the key.
  absl::Status IndexRow(RowId r);
  void UnindexRow(RowId r);
  // Changes one column with index maintenance. On a unique clash nothing
  // changes and AlreadyExists is returned. `old` receives the prior value's
  // raw bytes and null flag (for undo).
  struct RawValue {
    uint8_t bytes[16];
    bool null;
  };
  absl::Status Update(RowId r, ColumnId c, const Value& v, RawValue* old);
  // Puts back a value captured by Update (always succeeds).
  void Restore(RowId r, ColumnId c, const RawValue& old);
  // Hard delete: unindexes and marks the row dead; Release frees its id.
  void Kill(RowId r);
  void Revive(RowId r);
  void Release(RowId r) { free_rows_.push_back(r); }

  // ---- Images, loading and replay (wal/).
  // A consistent read-only image of every row as it is now: the columns'
  // chunks and string heaps pinned (copy-on-write), in O(chunks). Take it on
  // the engine thread; read it anywhere.
  struct Image {
    TableId table;
    std::vector<ColumnDef> defs;  // the columns as they were when pinned
    size_t row_count;
    std::vector<Column::ChunkImage> live;                  // 1 byte a row
    std::vector<std::vector<Column::ChunkImage>> columns;  // per column
    std::vector<StringHeap::Image> heaps;                  // per column (empty unless strings)
  };
  Image Pin() const;

  // ---- Schema changes (engine/migration.cc): on the engine thread, between
  // transactions. Each has an inverse, so a migration that fails half-way
  // is undone. Built-in columns and indexes are never removed or moved.
  // Adds a column and writes `fill` into every allocated row.
  void AddColumn(const ColumnDef& def, const Value& fill);
  // Removes the last column and returns it (undoes AddColumn; also
  // TakeColumn of the last column).
  Column PopColumn();
  // Removes column `c`, renumbering those after it (their indexes are
  // rebuilt); returns it. REQUIRES: no index uses `c`.
  Column TakeColumn(ColumnId c);
  // Undoes TakeColumn(c).
  void PutBackColumn(ColumnId c, Column column);
  // A new definition over the same storage (rename, widen a string, flags).
  void SetColumnDef(ColumnId c, const ColumnDef& def);
  // Swaps column `c`'s storage for `column` (a retyped copy); returns the
  // old one. Indexes using `c` are rebuilt.
  Column SwapColumn(ColumnId c, Column column);
  // Adds an index built over every live row; on a unique clash nothing is
  // added and AlreadyExists names the key.
  absl::Status AddIndex(std::unique_ptr<IndexDef> def);
  // Indexes a migration added: position >= builtin_index_count().
  size_t builtin_index_count() const { return builtin_indexes_; }
  // Removes index `i` (>= builtin_index_count()) and returns its definition
  // (PutBackIndex rebuilds it at `i`).
  std::unique_ptr<IndexDef> TakeIndex(size_t i);
  void PutBackIndex(size_t i, std::unique_ptr<IndexDef> def);

  // Loading: BeginLoad(rows) on an empty table makes rows [0, rows)
  // addressable and dead; the loader fills columns through mutable_column()
  // and marks live rows with SetLive(); FinishLoad() counts them, lists the
  // dead ones as free and builds every index. AlreadyExists / DataLoss if
  // the loaded rows break a unique key.
  void BeginLoad(size_t rows);
  Column& mutable_column(ColumnId c) { return columns_[c]; }
  void SetLive(RowId r, bool live) { live_.Put<uint8_t>(r, live ? 1 : 0); }
  absl::Status FinishLoad();

  // Bulk appending (BulkLoader). REQUIRES: row_count() == 0. Frees the
  // columns' storage, with any bytes a rolled-back insert left there, so
  // that rows allocated from now on start all zero and null; then makes
  // room for `rows` rows.
  void ResetForAppend(size_t rows);
  // Column::FullChunkMemory of chunk `c` of liveness and of the columns
  // in `columns` (a bitset by ColumnId).
  void FullChunkMemory(size_t c, const uint64_t columns[4],
                       std::vector<std::span<const uint8_t>>* out) const;

  // FinishLoad's index work in parts, for loaders that build indexes on
  // several threads (BulkLoader). `live` lists every live row, ascending.
  // BuildIndex(i, live) fills index i (i < index_count()) from scratch.
  // CheckLoadedIds, run after index 0 is built, finds an id held by two
  // rows. Calls for different indexes of this table may run at the same
  // time on different threads, provided nothing writes the table meanwhile:
  // each writes only its own index and reads the columns. AlreadyExists
  // naming the table on a unique clash.
  absl::Status BuildIndex(size_t i, std::span<const RowId> live);
  absl::Status CheckLoadedIds(std::span<const RowId> live) const;

  // Replay of a logged row image at its exact row id: PrepareRowForReplay
  // makes row `r` addressable (extending the table with dead rows), dead and
  // unindexed; the caller writes every column with WriteValue; then
  // FinishReplayedRow makes it live and indexes it (AlreadyExists on a
  // unique clash: a log that does not fit this database). A replayed delete
  // is PrepareRowForReplay then Release.
  void PrepareRowForReplay(RowId r);
  absl::Status FinishReplayedRow(RowId r);

  // Bytes held by columns and indexes.
  size_t ColumnBytes() const;
  size_t IndexBytes() const;
  // Reserves room for `rows` rows in every column (bulk loading).
  void Reserve(size_t rows);

 private:
  void Capture(RowId r, ColumnId c, RawValue* out) const;
  // After a change of columns or indexes: def_.columns, updated_at_,
  // dependents_.
  void Refresh();
  // Rebuilds index `i` from the live rows (after its columns moved).
  void RebuildIndex(size_t i);
  void Put(RowId r, ColumnId c, const RawValue& v);
  absl::Status ClashError(const TableIndex& ix, RowId r) const;

  TableDef def_;                         // columns: a span of column_defs_
  std::vector<ColumnDef> column_defs_;
  std::vector<Column> columns_;
  Column live_;
  size_t row_count_ = 0;
  size_t live_count_ = 0;
  size_t capacity_ = 0;  // rows every column can hold without growing
  ColumnId updated_at_ = UINT16_MAX;
  std::vector<RowId> free_rows_;
  std::vector<std::unique_ptr<TableIndex>> indexes_;
  std::unique_ptr<IndexDef> primary_def_;
  size_t builtin_indexes_ = 0;
  std::vector<std::unique_ptr<IndexDef>> added_defs_;  // [i - builtin_indexes_]
  std::vector<uint64_t> dependents_;  // per column: bitmask of indexes using it
  HashTableIndex* primary_ = nullptr;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_TABLE_H_
