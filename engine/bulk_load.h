// BulkLoader fills empty tables of a Database fast: each row is appended to
// the columns exactly as Txn::Insert would write it (schema defaults, an id
// from Database::NewId when none is given, string heaps, refs as row ids,
// tags), but with no undo log, no commit record and no index maintenance
// per row. Each table's indexes are built once, in bulk, when the caller
// ends the table: on background threads while the caller goes on loading
// other tables, one task per index.
//
// Use it to load a fresh database (the demo data set, benchmarks, a
// generated snapshot). Not for a live database:
// - Nothing is logged. A database with a CommitSink (a WAL) attached is
//   refused; after the load the caller must take a snapshot before the
//   database takes logged writes, or a restart recovers without the rows.
// - Between the first Append and Finish() nothing else may read or write
//   the database: indexes are incomplete, and the builders read the ended
//   tables from other threads.
//
// Checks. Every value as Txn::Insert checks it (type, null, range, length,
// enum value, a ref to a live row, tags, required columns), except the
// UTF-8 and JSON syntax of strings, which are checked only when
// `check_text` (the default in builds with assertions: tests run them).
// Unique keys, ids included, are checked when the indexes are built.
// The first failure latches: later appends are skipped and Finish()
// returns it; the database then holds a partial load: discard it.
//
// Thread-compatible: call it on the thread that owns the Database.
#ifndef VOXDB_ENGINE_BULK_LOAD_H_
#define VOXDB_ENGINE_BULK_LOAD_H_

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "engine/database.h"

namespace vox {

struct BulkLoadOptions {
  // Threads that build indexes; 0: one per core (at most 8).
  int threads = 0;
  // Builder threads fault in each table's next chunk of the columns being
  // written, ahead of the writes: the page faults (and the kernel zeroing
  // each page) leave the loading thread.
  bool fault_in_ahead = true;
  // Check the UTF-8 and JSON syntax of strings (see above).
#ifdef NDEBUG
  bool check_text = false;
#else
  bool check_text = true;
#endif
};

class BulkLoader {
 public:
  // `db` must outlive the loader. `now` is the clock of the rows' defaults
  // (creation times, ids), as Txn's `now`.
  BulkLoader(Database& db, Timestamp now, BulkLoadOptions options = {});
  // Stops the builders (waiting for those running) if Finish() was not called.
  ~BulkLoader();
  BulkLoader(const BulkLoader&) = delete;
  BulkLoader& operator=(const BulkLoader&) = delete;

  // Makes room for `rows` rows in table `t` before its first append,
  // checking that it is empty as that append would.
  void Reserve(TableId t, size_t rows);
  // Appends a row to table `t` (values for the columns given, defaults for
  // the rest) and returns it, or kNoRow with the error latched. The first
  // append to a table checks that it is empty (FailedPrecondition if not).
  RowId Append(TableId t, std::span<const ColumnValue> values);
  // No more rows for `t`: its indexes start building. Later appends to it
  // fail. A table never appended to is left alone.
  void EndTable(TableId t);
  // Ends the tables still open, waits for every index, and returns the
  // first error. `progress(done, total)` follows the index work left when
  // it was called (rows, once per index of their table): at the start,
  // about once a second, and at the end; on the calling thread.
  [[nodiscard]] absl::Status Finish(
      const std::function<void(uint64_t done, uint64_t total)>& progress = {});

  // The first error of an append (index builds report through Finish()).
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  enum class State : uint8_t { kUntouched, kOpen, kEnded };
  // What Txn::Insert writes into a column the values leave out, less what
  // a fresh row (all zero and null) already holds.
  struct Default {
    ColumnId column;
    enum class Kind : uint8_t { kId, kValue, kNow } kind;
  };
  struct TableState {
    State state = State::kUntouched;
    uint64_t required[4] = {0, 0, 0, 0};  // columns that must be given
    std::vector<Default> defaults;
    uint64_t default_columns[4] = {0, 0, 0, 0};  // the columns of `defaults`
    uint64_t written[4] = {0, 0, 0, 0};          // columns written in this chunk
  };
  // Work for the builder threads: an index of an ended table, or memory
  // to fault in (run first, in order).
  // The rows of an ended table, all live: 0, 1, ..., n - 1, made by the
  // first of its index tasks to run.
  struct LiveRows {
    explicit LiveRows(size_t n) : count(n) {}
    std::span<const RowId> Get();
    const size_t count;
    std::once_flag once;
    std::vector<RowId> rows;
  };
  struct Task {
    Table* table = nullptr;
    size_t index = 0;
    std::shared_ptr<LiveRows> live;
    uint64_t rows = 0;    // progress weight
    uint64_t effort = 0;  // scheduling: the largest index first
    std::shared_ptr<const std::vector<std::span<const uint8_t>>> memory;
  };

  bool Open(TableId t, size_t rows);
  // Has a builder thread fault in the next chunk of `t` (r starts a chunk).
  void FaultInNextChunk(TableId t, RowId r);
  void Fail(absl::Status s);
  // REQUIRES: mu_ held.
  void Queue(Task task);
  void Work();
  void RunTask(const Task& task);

  Database& db_;
  const Timestamp now_;
  const BulkLoadOptions options_;
  absl::Status status_;
  std::array<TableState, kTableCount> tables_{};

  // Index building, shared with the workers.
  std::mutex mu_;
  std::condition_variable work_cv_;  // a task was queued, or stop
  std::condition_variable done_cv_;  // a task finished
  std::vector<Task> queue_;
  size_t running_ = 0;
  uint64_t rows_queued_ = 0, rows_built_ = 0;
  absl::Status build_status_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_BULK_LOAD_H_
