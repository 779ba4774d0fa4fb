// Writes a Database's rows as CSV files that PostgreSQL loads with
// `COPY <table> (<header>) FROM ... (FORMAT csv, HEADER MATCH)`: the
// PostgreSQL peer of the benchmark (bench/peers/postgres) loads exactly the
// rows VoxDB holds.
//
// One `<table>.csv` per table of the catalog (schema/tables.h), even an
// empty one. The first line names the columns in catalog order (`id`, the
// row's uuid, first); then one line per live row. Values:
//   null                  an empty unquoted field
//   string, JSON          always quoted, `"` doubled (so "" is the empty string)
//   ref                   the referenced row's uuid
//   enum                  the value's name (LIVE, GIFT, ...)
//   timestamp             2026-10-01 12:00:00.123456+00 (UTC)
//   uuid                  canonical 8-4-4-4-12 lowercase hex
//   inet                  text (FormatInet)
//   bool                  t or f
//   tags                  an array of tag names, quoted: "{tag-1,tag-17}"
//   int32, int64          decimal
//
// Each file is written to `<table>.csv.tmp` and renamed into place once
// complete, so a `<table>.csv` is never partial.
//
// Cost: one pass over the columns into a 4 MiB buffer, written with large
// write()s: on the 2-core dev machine SF=0.1 (8.1 million rows, 1.5 GB of
// CSV) exports in 5 s, so SF=1 in about a minute (~15 GB).
//
// Thread-compatible: nothing may write `db` meanwhile (run it on the thread
// that owns the Database).
#ifndef VOXDB_TOOLS_DATAGEN_CSV_EXPORT_H_
#define VOXDB_TOOLS_DATAGEN_CSV_EXPORT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/database.h"

namespace vox {

// Writes every table of `db` into directory `dir` (created if missing).
// `progress` (may be empty) is called with (table, rows done, live rows of
// the table) when a table starts, every million rows, and when it ends.
// Errors name the file: the code follows errno (ResourceExhausted for a
// full disk, PermissionDenied, ...). OutOfRange for a timestamp before
// PostgreSQL's first (4714 BC); DataLoss for a reference to a row that is
// not live. On an error the files written so far stay and the `.tmp` file
// is removed.
[[nodiscard]] absl::Status ExportCsv(
    const Database& db, const std::string& dir,
    const std::function<void(std::string_view table, uint64_t done, uint64_t total)>& progress);

}  // namespace vox

#endif  // VOXDB_TOOLS_DATAGEN_CSV_EXPORT_H_
