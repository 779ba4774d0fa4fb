// Txn is one atomic transaction on the Database: every write goes through
// it, is validated against the schema (types, nullability, ranges, lengths,
// enum values, foreign keys, JSON) and unique keys, and is recorded in an
// undo log. Rollback() puts back every row and index entry; Commit() hands
// the changes to the CommitSink (the WAL).
//
// The first failed check latches an error; later writes are skipped and the
// transaction can only be rolled back. Run transactions with Transact().
// Thread-compatible: engine thread only.
#ifndef VOXDB_ENGINE_TXN_H_
#define VOXDB_ENGINE_TXN_H_

#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/database.h"

namespace vox {

enum class ChangeKind : uint8_t { kInsert, kUpdate, kDelete };

// A row a transaction changed. A row may appear more than once.
struct RowChange {
  TableId table;
  ChangeKind kind;
  RowId row;
};

class Txn {
 public:
  // `db` must outlive the transaction. `now` is the transaction's clock:
  // every default and "now" of the operation it runs.
  Txn(Database& db, Timestamp now);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Database& db() { return db_; }
  const Database& db() const { return db_; }
  const Table& table(TableId t) const { return db_.table(t); }
  Timestamp now() const { return now_; }

  // Inserts a row: `values` for the columns given, schema defaults for the
  // rest (a new id, "now" for creation times). Returns the row, or kNoRow
  // with the error latched.
  RowId Insert(TableId t, std::initializer_list<ColumnValue> values) {
    return Insert(t, std::span<const ColumnValue>(values.begin(), values.size()));
  }
  RowId Insert(TableId t, std::span<const ColumnValue> values);

  // Sets one column; also stamps the table's updated_at with now().
  void Set(TableId t, RowId r, ColumnId c, const Value& v);

  // Hard delete, following foreign keys (cascade / set null / restrict).
  // REQUIRES: the table's delete policy is kHard.
  void Delete(TableId t, RowId r);

  // Latches `s` as the transaction's error if none is yet.
  void Fail(absl::Status s);
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

  void Commit();
  void Rollback();

  std::span<const RowChange> changes() const { return changes_; }

  // A migration's canonical text (engine/ops/migration.h), when this
  // transaction applied one: the log keeps both as one record.
  void set_schema_change(std::string text) { schema_change_ = std::move(text); }
  const std::string& schema_change() const { return schema_change_; }

 private:
  enum class UndoKind : uint8_t { kInsert, kUpdate, kDelete };
  struct Undo {
    UndoKind kind;
    TableId table;
    ColumnId column;
    bool reused_row;
    RowId row;
    Table::RawValue old;
  };
  void Record(TableId t, ChangeKind kind, RowId r);

  Database& db_;
  Timestamp now_;
  absl::Status status_;
  absl::InlinedVector<Undo, 16> undo_;
  absl::InlinedVector<RowChange, 16> changes_;
  std::string schema_change_;
  bool done_ = false;
};

// Checks `v` against column `c` of table `t`: type, nullability, range,
// length, UTF-8, enum value, JSON, and (for refs) that the row is live.
absl::Status ValidateValue(const Database& db, TableId t, ColumnId c, const Value& v);

// Checks a value read back from a file whose checksums passed (a snapshot,
// a WAL record) as far as reads of its row depend on it: an enum value has a
// name; a ref, and each tag id, points inside its table (to a row live or
// not). ValidateValue's full checks are for writes. `raw` is the value as an
// integer; columns of other types always pass. DataLoss naming the column.
absl::Status CheckStoredValue(const Database& db, TableId t, ColumnId c, int64_t raw);

// Checks that `text` is one JSON value (RFC 8259), nested at most 64 deep.
absl::Status ValidateJson(std::string_view text);

// Whether `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

namespace txn_internal {
inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace txn_internal

// Runs fn(txn) as one transaction: committed if fn returns OK and nothing
// latched an error, rolled back (changing nothing) otherwise.
//
// Transactions nest: called while another Transact() is running on `db`
// (a Batch of operations, an operation built from others), fn runs on that
// open Txn, with its clock (`now` is ignored), and neither commits nor rolls
// back; an error it returns is latched on the open Txn, so the outermost
// transaction rolls back as a whole. fn sees every earlier write of the
// open transaction. The outermost Transact() is the one described above.
template <typename Fn>
auto Transact(Database& db, Timestamp now, Fn&& fn) -> decltype(fn(std::declval<Txn&>())) {
  if (Txn* open = db.open_txn(); open != nullptr) {
    auto result = fn(*open);
    if (result.ok() && !open->ok()) result = open->status();
    if (!result.ok()) open->Fail(txn_internal::StatusOf(result));
    return result;
  }
  Txn txn(db, now);
  struct Open {  // db.open_txn() is &txn until the transaction ends
    Database& db;
    ~Open() { db.set_open_txn(nullptr); }
  } open{db};
  db.set_open_txn(&txn);
  auto result = fn(txn);
  if (result.ok() && !txn.ok()) result = txn.status();
  if (result.ok()) {
    txn.Commit();
  } else {
    txn.Rollback();
  }
  return result;
}

}  // namespace vox

#endif  // VOXDB_ENGINE_TXN_H_
