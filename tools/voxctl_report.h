// How voxctl prints a report (a ReportResult: time series by bucket and
// dimension key, schema/voxdb.fbs) and draws one of its columns as an SVG
// chart (docs/voxctl.md, "Reports and charts"). Other results keep the
// generic printer (tools/voxctl_output.h).
//
//   if (const wire::ReportResult* r = response.result_as_ReportResult()) {
//     std::fputs(RenderReport(*r, Format::kTable).c_str(), stdout);
//     absl::StatusOr<svg::Chart> chart = ReportChart(*r, options.chart);
//     if (chart.ok()) status = WriteFileAtomically(path, svg::RenderSvg(*chart));
//   }
//
// Thread-compatible; the functions read `report` and keep nothing of it.
#ifndef VOXDB_TOOLS_VOXCTL_REPORT_H_
#define VOXDB_TOOLS_VOXCTL_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/svg_chart.h"
#include "tools/voxctl_output.h"

namespace vox::wire {
struct ReportResult;
}

namespace vox::voxctl {

// --chart and its companions.
struct ChartOptions {
  std::string path;    // empty: no chart
  std::string table;   // the report table to draw; empty: the first
  std::string column;  // the value column to draw; empty: the table's first
  std::string type;    // "line", "bar", or empty: line above 12 buckets, else bar
};

// The bucket width for labels: `hint` ("hour", "day" or "week", the
// request's `bucket=`) when given, else the spacing of the buckets.
svg::BucketWidth BucketWidthOf(const std::vector<int64_t>& buckets, std::string_view hint);

// The report printed; ends with a newline.
//  table: per report table a heading (name, dimension, range), then an
//         aligned table: bucket (the date for day and week buckets, else
//         RFC 3339), the key under the dimension's name, one column per
//         value (integers without decimals, others rounded to 3
//         decimals); then one footer line: snapshot LSN, rows scanned, time.
//  csv:   per report table a header line `table,bucket[,DIMENSION],COLUMN...`
//         and its rows (RFC 4180); tables separated by a blank line.
//  json:  one document: {"tables":[{name, dimension, columns, buckets}],
//         "rows":[{"table","bucket","key",COLUMN:value...}] (one row a
//         line), "snapshot_lsn", "rows_scanned", "micros"}.
// Buckets in csv and json are RFC 3339 (2026-11-22T00:00:00Z); values in
// columns named `*_at` (microseconds) print as RFC 3339 in every format.
std::string RenderReport(const wire::ReportResult& report, Format format,
                         std::string_view bucket_hint = "");

// The chart of `options.column` of `options.table`: one series per key
// (the top 8 by total; the rest summed as "other", or left out for a
// column that does not add up: rates, averages, percentiles, distinct
// counts), missing buckets as 0; bars stacked for columns that add up,
// grouped otherwise. InvalidArgument naming what exists when the report
// has no such table or column, or `options.type` is not line or bar.
absl::StatusOr<svg::Chart> ReportChart(const wire::ReportResult& report,
                                       const ChartOptions& options,
                                       std::string_view bucket_hint = "");

// Whether summing a column's values over keys means something (counts,
// sums) or not (rates, shares, averages, percentiles, peaks, distinct
// counts, timestamps), by its name.
bool IsAdditiveColumn(std::string_view column);

// Writes `contents` to `path` through a temporary file in the same
// directory renamed over it: readers see the old file or the whole new one.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace vox::voxctl

#endif  // VOXDB_TOOLS_VOXCTL_REPORT_H_
