// Database owns every table of the schema and its indexes, and mints ids.
// It is the state a transaction (Txn) changes; the platform's operations
// (engine/ops/*.h) and queries read and write it through Txn.
//
// Thread-compatible: one engine thread owns it (see docs/architecture.md).
#ifndef VOXDB_ENGINE_DATABASE_H_
#define VOXDB_ENGINE_DATABASE_H_

#include <array>
#include <deque>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/table.h"

namespace vox {

class Txn;

// Receives each committed transaction (the WAL implements it).
class CommitSink {
 public:
  virtual ~CommitSink() = default;
  virtual void OnCommit(const Txn& txn) = 0;
};

struct DatabaseOptions {
  // Seeds the random part of new ids; 0 takes a seed from the OS.
  uint64_t id_seed = 0;
};

namespace internal {
// A bit per TableId for every table the calling thread reached through a
// Database accessor (table() or an index) since ResetTablesTouched(). The
// server releases a read's answer once the tables the read looked at are
// durable, not everything committed (net/internal/dispatch.cc).
inline thread_local uint64_t tables_touched = 0;
static_assert(kMaxTables <= 64, "tables_touched has a bit per table");
}  // namespace internal
inline void ResetTablesTouched() { internal::tables_touched = 0; }
inline uint64_t TablesTouched() { return internal::tables_touched; }

class Database {
 public:
  explicit Database(DatabaseOptions options = {});
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Table& table(TableId t) {
    Touch(t);
    return *tables_[static_cast<size_t>(t)];
  }
  const Table& table(TableId t) const {
    Touch(t);
    return *tables_[static_cast<size_t>(t)];
  }
  // The built-in tables, then those migrations added: TableIds
  // [0, table_count()).
  size_t table_count() const { return tables_.size(); }
  bool has_table(size_t t) const { return t < tables_.size(); }
  absl::StatusOr<TableId> FindTable(std::string_view name) const;
  absl::StatusOr<ColumnId> FindColumn(TableId t, std::string_view name) const;

  // ---- The schema as it stands: the built-in one plus every migration
  // applied (engine/migration.h changes it; nothing else does).
  uint32_t schema_version() const { return schema_version_; }
  // The migrations applied, in order, as their canonical text.
  std::span<const std::string> schema_history() const { return history_; }
  // Values of enum `e`: built-in, then added.
  size_t enum_size(EnumId e) const {
    return GetEnum(e).values.size() + added_values_[static_cast<size_t>(e)].size();
  }
  // InvalidArgument listing the legal names.
  absl::StatusOr<uint8_t> ParseEnum(EnumId e, std::string_view name) const;

  // For engine/migration.cc only.
  std::string_view Intern(std::string_view s) { return names_.emplace_back(s); }
  void AddEnumValue(EnumId e, std::string_view name);
  void PopEnumValue(EnumId e) { added_values_[static_cast<size_t>(e)].pop_back(); }
  TableId AddTable(const TableDef& def);  // def.id is assigned
  std::unique_ptr<Table> PopTable();
  std::unique_ptr<Table> TakeTable(TableId t);  // renumbers the tables after it
  void PutBackTable(TableId t, std::unique_ptr<Table> table);
  // A migration applied: the database is now at `version`.
  void AppendMigration(uint32_t version, std::string text) {
    schema_version_ = version;
    history_.push_back(std::move(text));
  }
  // After tables, columns or indexes changed: the hard-delete referrers.
  void RefreshReferrers();

  // The index at position `no` of kIndexes (use IndexNo("name")), by kind.
  // range() serves both ordered and grouped indexes.
  const RangeIndex& range(size_t no) const {
    VOX_DCHECK(kIndexes[no].kind != IndexKind::kUniqueHash);
    Touch(kIndexes[no].table);
    return static_cast<const RangeIndex&>(*indexes_[no]);
  }
  const OrderedTableIndex& ordered(size_t no) const {
    VOX_DCHECK(kIndexes[no].kind == IndexKind::kOrdered);
    Touch(kIndexes[no].table);
    return static_cast<const OrderedTableIndex&>(*indexes_[no]);
  }
  const GroupedTableIndex& grouped(size_t no) const {
    VOX_DCHECK(kIndexes[no].kind == IndexKind::kGrouped);
    Touch(kIndexes[no].table);
    return static_cast<const GroupedTableIndex&>(*indexes_[no]);
  }
  const HashTableIndex& hash(size_t no) const {
    VOX_DCHECK(kIndexes[no].kind == IndexKind::kUniqueHash);
    Touch(kIndexes[no].table);
    return static_cast<const HashTableIndex&>(*indexes_[no]);
  }

  // A new UUIDv7 for row `row` of some table: 48 bits of `now` in ms, then
  // random bits, with `row` in the low 32 (see Table::FindById).
  Uuid NewId(Timestamp now, RowId row);
  // 64 random bits from the id generator (codes, tokens).
  uint64_t RandomBits() { return rng_(); }

  // A foreign key into a hard-deletable table, with the index that finds
  // the referring rows (null for a column a migration added without one:
  // deletes scan the table).
  struct Referrer {
    TableId table;
    ColumnId column;
    OnDelete on_delete;
    const RangeIndex* index;
  };
  std::span<const Referrer> referrers(TableId t) const {
    return referrers_[static_cast<size_t>(t)];
  }

  // A consistent image of every table (see Table::Pin), at the moment of
  // the call. Engine thread; the image may be read from any thread.
  std::vector<Table::Image> Pin() const;

  // Checks every index of every table against a full scan.
  absl::Status VerifyIndexes() const;

  // The transaction Transact() is running, if any: a Transact() called
  // inside it joins it instead of starting its own (see Transact).
  Txn* open_txn() const { return open_txn_; }
  void set_open_txn(Txn* txn) { open_txn_ = txn; }

  void set_commit_sink(CommitSink* sink) { sink_ = sink; }
  CommitSink* commit_sink() const { return sink_; }
  uint64_t commits() const { return commits_; }
  void CountCommit() { ++commits_; }

 private:
  static void Touch(TableId t) { Touch(static_cast<size_t>(t)); }

  static void Touch(size_t t) { internal::tables_touched |= uint64_t{1} << t; }

  std::vector<std::unique_ptr<Table>> tables_;
  std::array<const TableIndex*, kIndexCount> indexes_{};
  std::vector<std::vector<Referrer>> referrers_;  // per table
  uint32_t schema_version_ = kSchemaVersion;
  std::vector<std::string> history_;
  std::deque<std::string> names_;  // names migrations introduced; never freed
  std::array<std::vector<std::string_view>, kEnumCount> added_values_;
  std::mt19937_64 rng_;
  CommitSink* sink_ = nullptr;
  Txn* open_txn_ = nullptr;
  uint64_t commits_ = 0;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_DATABASE_H_
