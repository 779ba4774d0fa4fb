// ReportTable is what a report returns: a table of time series. Each row is
// keyed by (bucket start, dimension value) and holds one number per named
// column (counts, sums, rates, percentiles).
//
// Rows exist only for (bucket, key) cells where something was counted:
// empty buckets are absent (`buckets` lists every bucket of the range, to
// fill gaps with zeros). Rows are sorted by bucket start, then key; a top-N
// table (one row per key at the range's first bucket) is in rank order.
// A plain value type; thread-compatible.
#ifndef VOXDB_ENGINE_REPORT_REPORT_TABLE_H_
#define VOXDB_ENGINE_REPORT_REPORT_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "schema/types.h"

namespace vox {

// The key of rows that have no value for the report's dimension (a login
// with no user, a call with no transport, an untagged room, ...).
inline constexpr std::string_view kNoKey = "(none)";

struct ReportRow {
  Timestamp bucket_start = 0;
  std::string key;             // the dimension's value; "" when the report has none
  std::vector<double> values;  // one per column. Integers are exact up to 2^53.
};

struct ReportTable {
  std::string dimension;             // e.g. "provider"; "" for none
  std::vector<std::string> columns;  // names of ReportRow::values, in order
  std::vector<Timestamp> buckets;    // every bucket start of the range
  std::vector<ReportRow> rows;

  // -1 when there is no such column.
  int ColumnIndex(std::string_view column) const;
  // The row of (bucket, key), or null.
  const ReportRow* Find(Timestamp bucket_start, std::string_view key) const;
  // The cell, or 0 when the row is absent. REQUIRES: the column exists.
  double Get(Timestamp bucket_start, std::string_view key, std::string_view column) const;
  // The column summed over every row (meaningful for counts and sums).
  double Sum(std::string_view column) const;
  // The distinct keys, sorted.
  std::vector<std::string> Keys() const;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_REPORT_REPORT_TABLE_H_
