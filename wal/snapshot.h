// Snapshots: a whole database written to one file, consistent at an LSN, and
// loaded back at start-up before the WAL after that LSN is replayed. The
// format is in snapshot_format.h and docs/snapshot-format.md.
//
// Taking one while the engine keeps serving:
//
//   // On the engine thread: pins every chunk, O(chunks), well under 1 ms.
//   std::vector<Table::Image> image = db.Pin();
//   const uint64_t lsn = ...;  // the LSN of the last transaction applied
//   // On any thread; the engine goes on (copy-on-write keeps the image).
//   absl::StatusOr<SnapshotInfo> info =
//       WriteSnapshot(PosixFileIo(), image, {.database_id = id, .lsn = lsn}, dir, progress);
//
// Every function does all its file I/O through `io` (tests inject faults with
// FaultyFileIo). Thread-safe: the functions share no state; each call uses
// its own file descriptor.
#ifndef VOXDB_WAL_SNAPSHOT_H_
#define VOXDB_WAL_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/table.h"
#include "wal/file_io.h"

namespace vox {

// Called as the work advances, at most every 4 MiB and once at the end.
using ProgressFn = std::function<void(uint64_t done_bytes, uint64_t total_bytes)>;

// What the caller tells WriteSnapshot about the image.
struct SnapshotMeta {
  Uuid database_id;          // stored in the header; recovery checks it
  uint64_t lsn = 0;          // the image holds every transaction up to this LSN
  Timestamp created_at = 0;  // 0: the wall clock when the write starts
  // The schema the image was pinned with: Database::schema_version() and
  // schema_history(), taken at the same moment as Pin().
  uint32_t schema_version = kSchemaVersion;
  std::vector<std::string> schema_history;
};

// The meta of a snapshot of `db` as it is now (its schema included): take
// it at the same moment as db.Pin().
SnapshotMeta MetaOf(const Database& db, const Uuid& database_id, uint64_t lsn);

// What a snapshot file holds, and what an operation on it took.
struct SnapshotInfo {
  std::string path;
  uint64_t lsn = 0;
  Uuid database_id;
  uint32_t schema_version = 0;
  Timestamp created_at = 0;
  uint64_t total_rows = 0;  // live rows, all tables
  uint64_t bytes = 0;       // the file's size
  double seconds = 0;       // wall time of the call
  // LoadSnapshot: time spent building indexes, summed over tables. They are
  // built in parallel with reading and with each other, so this can exceed
  // the wall time they added to `seconds`.
  double index_seconds = 0;
};

// "snapshot-<lsn as 20 digits>.vsnap": sorts by LSN.
std::string SnapshotFileName(uint64_t lsn);

// Writes `image` (Database::Pin(), one Table::Image per table in TableId
// order) to `<dir>/SnapshotFileName(meta.lsn)`: first under that name plus
// ".tmp" (mode 0600), then fdatasync, rename, fsync of `dir`. Reads only the
// pinned chunks, so it may run on any thread while the engine writes on.
// `image` must stay alive until it returns.
// Errors: AlreadyExists if a snapshot at this LSN exists; the I/O error of
// the step that failed (ResourceExhausted for ENOSPC, DataLoss for EIO, ...),
// naming the file. On any error no file is left behind (not the temporary,
// not the final name) and other snapshots are untouched.
[[nodiscard]] absl::StatusOr<SnapshotInfo> WriteSnapshot(FileIo& io,
                                                         const std::vector<Table::Image>& image,
                                                         const SnapshotMeta& meta,
                                                         const std::string& dir,
                                                         ProgressFn progress = {});

// Loads the snapshot at `path` into `db`, which must be empty, checking every
// checksum before it uses the bytes it covers, and rebuilds every index
// (Table::FinishLoad): a table's indexes are built on background threads
// (all cores but one) while the next tables are read. Call it on the engine
// thread (it writes `db`); `db` is not touched by other threads after it
// returns.
// Errors: FailedPrecondition if `db` is not empty, or the file has another
// format or schema version (the message names both numbers), or its tables
// do not match this build's schema; InvalidArgument if the file is not a
// snapshot (bad magic); DataLoss for a checksum mismatch, a truncated file or
// inconsistent contents (among them an enum value, ref or tag id out of
// range), naming the file, the table/column and the byte offset or row; the
// I/O error of a failed read. After an error `db` may hold a partial load:
// discard it.
[[nodiscard]] absl::StatusOr<SnapshotInfo> LoadSnapshot(FileIo& io, const std::string& path,
                                                        Database& db, ProgressFn progress = {});

// Reads the whole file and checks everything LoadSnapshot checks, without a
// Database (the operator's "verify a snapshot"), except the range of values
// (enum values, refs, tag ids), which needs this build's schema and the
// loaded tables. The file describes its own columns, so a snapshot of
// another schema version can be verified too.
// Errors as LoadSnapshot's, less the ones about `db` and the schema.
[[nodiscard]] absl::StatusOr<SnapshotInfo> VerifySnapshot(FileIo& io, const std::string& path,
                                                          ProgressFn progress = {});

// The migrations (canonical texts, in order) the snapshot at `path` was
// written after: for tools that decode the WAL around it (voxctl wal dump).
// Reads the header, trailer and schema blocks only.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ReadSnapshotSchema(FileIo& io,
                                                                         const std::string& path);

// Reads only the header and the trailer (for listing snapshots): cheap, and
// catches a bad magic, a damaged header or trailer and a truncated file, but
// not damage in between. Any schema version is accepted (and reported).
// Errors as VerifySnapshot's.
[[nodiscard]] absl::StatusOr<SnapshotInfo> ReadSnapshotHeader(FileIo& io, const std::string& path);

}  // namespace vox

#endif  // VOXDB_WAL_SNAPSHOT_H_
