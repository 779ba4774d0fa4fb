#include "tools/voxctl_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "schema/str.h"
#include "schema/types.h"
#include "schema/voxdb_generated.h"
#include "tools/voxctl_schema.h"

namespace vox::voxctl {
namespace {

constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr int64_t kMicrosPerWeek = 7 * kMicrosPerDay;
// Above this many buckets a chart defaults to lines, else to bars.
constexpr size_t kMaxBarBuckets = 12;

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

// A report table read out of the buffer, with a missing vector as empty.
struct TableView {
  std::string name, dimension;
  std::vector<std::string> columns;
  std::vector<int64_t> buckets;
  const flatbuffers::Vector<flatbuffers::Offset<wire::ReportRow>>* rows = nullptr;
  bool keyed = false;  // a key column is shown: a dimension, or rows with keys

  size_t row_count() const { return rows == nullptr ? 0 : rows->size(); }
};

TableView View(const wire::ReportTable& t) {
  TableView v;
  v.name = Str(t.name());
  v.dimension = Str(t.dimension());
  if (t.columns() != nullptr) {
    for (const flatbuffers::String* c : *t.columns()) v.columns.push_back(Str(c));
  }
  if (t.buckets() != nullptr) v.buckets.assign(t.buckets()->begin(), t.buckets()->end());
  v.rows = t.rows();
  v.keyed = !v.dimension.empty();
  for (size_t i = 0; i < v.row_count() && !v.keyed; ++i) {
    const flatbuffers::String* key = v.rows->Get(i)->key();
    v.keyed = key != nullptr && key->size() > 0;
  }
  return v;
}

std::vector<TableView> Tables(const wire::ReportResult& report) {
  std::vector<TableView> tables;
  if (report.tables() == nullptr) return tables;
  for (const wire::ReportTable* t : *report.tables()) {
    if (t != nullptr) tables.push_back(View(*t));
  }
  return tables;
}

std::string KeyHeader(const TableView& t) { return t.dimension.empty() ? "key" : t.dimension; }

bool IsTimestampColumn(std::string_view column) {
  return column.size() > 3 && column.ends_with("_at");
}

std::string FormatUtc(int64_t micros, const char* format) {
  return absl::FormatTime(format, absl::FromUnixMicros(micros), absl::UTCTimeZone());
}
std::string Rfc3339(int64_t micros) {
  return micros % 1000000 == 0 ? FormatUtc(micros, "%Y-%m-%dT%H:%M:%SZ") : FormatTimestamp(micros);
}

// A bucket start as a person reads it: the date for day and week buckets.
std::string BucketLabel(int64_t start, svg::BucketWidth width) {
  const bool midnight = start % kMicrosPerDay == 0;
  if (midnight && (width == svg::BucketWidth::kDay || width == svg::BucketWidth::kWeek ||
                   width == svg::BucketWidth::kUnknown)) {
    return FormatUtc(start, "%Y-%m-%d");
  }
  return Rfc3339(start);
}

// Shortest text that reads back as the same double (CSV, JSON).
std::string ExactNumber(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// For people: integers without decimals; others rounded to 3 decimals
// without trailing zeros, or 3 significant digits below 0.001.
std::string ReadableNumber(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf");
  char buf[48];
  if (v == std::round(v) && std::fabs(v) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    return std::string(buf, r.ptr);
  }
  if (std::fabs(v) < 0.0005) {
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 3);
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 3);
  std::string s(buf, r.ptr);
  while (s.ends_with('0')) s.pop_back();
  if (s.ends_with('.')) s.pop_back();
  return s;
}

// One cell: a timestamp column's microseconds as RFC 3339, else the number.
std::string CellText(double v, std::string_view column, bool readable) {
  if (IsTimestampColumn(column) && std::isfinite(v) && std::fabs(v) < 9e15) {
    return Rfc3339(static_cast<int64_t>(v));
  }
  return readable ? ReadableNumber(v) : ExactNumber(v);
}

const char* WidthAdjective(svg::BucketWidth width) {
  switch (width) {
    case svg::BucketWidth::kHour:
      return "hourly ";
    case svg::BucketWidth::kDay:
      return "daily ";
    case svg::BucketWidth::kWeek:
      return "weekly ";
    case svg::BucketWidth::kUnknown:
      break;
  }
  return "";
}

// "2026-11-20 .. 2026-11-22": the first and last bucket starts; `plain`
// writes times as "2026-11-20 13:00" (UTC said elsewhere).
std::string BucketSpan(const std::vector<int64_t>& buckets, svg::BucketWidth width,
                       bool plain = false) {
  if (buckets.empty()) return "no buckets";
  const auto [lo, hi] = std::minmax_element(buckets.begin(), buckets.end());
  auto label = [&](int64_t t) {
    std::string s = BucketLabel(t, width);
    return plain && s.size() > 10 ? FormatUtc(t, "%Y-%m-%d %H:%M") : s;
  };
  std::string range = label(*lo);
  if (*hi != *lo) range += StrCat(" .. ", label(*hi));
  return range;
}

// "3 daily buckets".
std::string BucketCount(size_t n, svg::BucketWidth width) {
  return StrCat(n, " ", WidthAdjective(width), n == 1 ? "bucket" : "buckets");
}

// "2026-11-20 .. 2026-11-22 (3 daily buckets)".
std::string RangeText(const std::vector<int64_t>& buckets, svg::BucketWidth width) {
  if (buckets.empty()) return "no buckets";
  return StrCat(BucketSpan(buckets, width), " (", BucketCount(buckets.size(), width), ")");
}

std::string Heading(const TableView& t, svg::BucketWidth width) {
  std::string name = t.name.empty() ? "report" : t.name;
  if (!t.dimension.empty()) name += StrCat(" by ", t.dimension);
  return StrCat(name, ": ", RangeText(t.buckets, width));
}

// ---- table ----

size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// A text cell: control characters escaped, so a row stays one line.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Grid(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = Width(header[c]);
    for (const auto& row : rows) width[c] = std::max(width[c], Width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string fill(width[c] - Width(cells[c]), ' ');
      out += StrCat(c ? "  " : "", right[c] ? fill : "", cells[c], right[c] ? "" : fill);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string DurationText(double micros) {
  if (!std::isfinite(micros) || micros < 0) return "?";
  const double ms = micros / 1000;
  char buf[32];
  if (ms >= 10000) {
    std::snprintf(buf, sizeof(buf), "%.1f s", ms / 1000);
  } else if (ms >= 100) {
    std::snprintf(buf, sizeof(buf), "%.0f ms", ms);
  } else if (ms >= 10) {
    std::snprintf(buf, sizeof(buf), "%.1f ms", ms);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f ms", ms);
  }
  return buf;
}

std::string RenderTable(const wire::ReportResult& report, std::string_view hint) {
  std::string out;
  const std::vector<TableView> tables = Tables(report);
  for (const TableView& t : tables) {
    const svg::BucketWidth width = BucketWidthOf(t.buckets, hint);
    std::vector<std::string> header = {"bucket"};
    std::vector<bool> right = {false};
    if (t.keyed) {
      header.push_back(KeyHeader(t));
      right.push_back(false);
    }
    for (const std::string& c : t.columns) {
      header.push_back(c);
      right.push_back(!IsTimestampColumn(c));
    }
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < t.row_count(); ++i) {
      const wire::ReportRow& r = *t.rows->Get(i);
      std::vector<std::string> cells = {BucketLabel(r.bucket_start(), width)};
      if (t.keyed) cells.push_back(OneLine(Str(r.key())));
      for (size_t c = 0; c < t.columns.size(); ++c) {
        cells.push_back(r.values() != nullptr && c < r.values()->size()
                            ? CellText(r.values()->Get(c), t.columns[c], true)
                            : "");
      }
      rows.push_back(std::move(cells));
    }
    out += StrCat(out.empty() ? "" : "\n", OneLine(Heading(t, width)), "\n");
    out += Grid(header, rows, right);
    if (rows.empty()) out += "(no rows)\n";
  }
  if (tables.empty()) out += "(no tables)\n";
  out += StrCat("\nsnapshot LSN ", report.snapshot_lsn(), ", ", report.rows_scanned(),
                " rows scanned, ", DurationText(report.micros()), "\n");
  return out;
}

// ---- csv ----

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos &&
      (s.empty() || (s.front() != ' ' && s.back() != ' '))) {
    return s;
  }
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvRow(const std::vector<std::string>& cells) {
  std::vector<std::string> quoted;
  for (const std::string& c : cells) quoted.push_back(CsvCell(c));
  return StrJoin(quoted, ",") + "\n";
}

std::string RenderCsv(const wire::ReportResult& report) {
  std::string out;
  for (const TableView& t : Tables(report)) {
    if (!out.empty()) out += "\n";
    std::vector<std::string> header = {"table", "bucket"};
    if (t.keyed) header.push_back(KeyHeader(t));
    header.insert(header.end(), t.columns.begin(), t.columns.end());
    out += CsvRow(header);
    for (size_t i = 0; i < t.row_count(); ++i) {
      const wire::ReportRow& r = *t.rows->Get(i);
      std::vector<std::string> cells = {t.name, Rfc3339(r.bucket_start())};
      if (t.keyed) cells.push_back(Str(r.key()));
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const bool present =
            r.values() != nullptr && c < r.values()->size() && std::isfinite(r.values()->Get(c));
        cells.push_back(present ? CellText(r.values()->Get(c), t.columns[c], false) : "");
      }
      out += CsvRow(cells);
    }
  }
  return out;
}

// ---- json ----

std::string JsonValue(double v, std::string_view column) {
  if (!std::isfinite(v)) return "null";
  if (IsTimestampColumn(column)) return JsonQuote(CellText(v, column, false));
  return ExactNumber(v);
}

std::string RenderJson(const wire::ReportResult& report) {
  const std::vector<TableView> tables = Tables(report);
  std::vector<std::string> metas, rows;
  for (const TableView& t : tables) {
    std::vector<std::string> columns, buckets;
    for (const std::string& c : t.columns) columns.push_back(JsonQuote(c));
    for (int64_t b : t.buckets) buckets.push_back(JsonQuote(Rfc3339(b)));
    metas.push_back(StrCat("{\"name\":", JsonQuote(t.name),
                           ",\"dimension\":", JsonQuote(t.dimension), ",\"columns\":[",
                           StrJoin(columns, ","), "],\"buckets\":[", StrJoin(buckets, ","), "]}"));
    for (size_t i = 0; i < t.row_count(); ++i) {
      const wire::ReportRow& r = *t.rows->Get(i);
      std::string row = StrCat("{\"table\":", JsonQuote(t.name),
                               ",\"bucket\":", JsonQuote(Rfc3339(r.bucket_start())));
      if (t.keyed) row += StrCat(",\"key\":", JsonQuote(Str(r.key())));
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const bool present = r.values() != nullptr && c < r.values()->size();
        row += StrCat(",", JsonQuote(t.columns[c]), ":",
                      present ? JsonValue(r.values()->Get(c), t.columns[c]) : "null");
      }
      rows.push_back(row + "}");
    }
  }
  return StrCat("{\"tables\":[", StrJoin(metas, ","), "],\n\"rows\":[", rows.empty() ? "" : "\n",
                StrJoin(rows, ",\n"), "],\n\"snapshot_lsn\":", report.snapshot_lsn(),
                ",\"rows_scanned\":", report.rows_scanned(), ",\"micros\":",
                std::isfinite(report.micros()) ? ExactNumber(report.micros()) : "null", "}\n");
}

// ---- chart ----

// A name by exact match, else ignoring case and underscores.
const std::string* Pick(const std::vector<std::string>& names, const std::string& want) {
  for (const std::string& n : names) {
    if (n == want) return &n;
  }
  for (const std::string& n : names) {
    if (NormalizeName(n) == NormalizeName(want)) return &n;
  }
  return nullptr;
}

std::string Quoted(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const std::string& n : names) q.push_back(StrCat("'", n, "'"));
  return q.empty() ? std::string("none") : StrJoin(q, ", ");
}

}  // namespace

svg::BucketWidth BucketWidthOf(const std::vector<int64_t>& buckets, std::string_view hint) {
  const std::string h = NormalizeName(hint);
  if (h == "hour" || h == "hourly") return svg::BucketWidth::kHour;
  if (h == "day" || h == "daily") return svg::BucketWidth::kDay;
  if (h == "week" || h == "weekly") return svg::BucketWidth::kWeek;
  int64_t gap = 0;
  for (size_t i = 1; i < buckets.size(); ++i) {
    const int64_t d = buckets[i] - buckets[i - 1];
    if (d > 0 && (gap == 0 || d < gap)) gap = d;
  }
  if (gap == kMicrosPerHour) return svg::BucketWidth::kHour;
  if (gap == kMicrosPerDay) return svg::BucketWidth::kDay;
  if (gap == kMicrosPerWeek) return svg::BucketWidth::kWeek;
  return svg::BucketWidth::kUnknown;
}

std::string RenderReport(const wire::ReportResult& report, Format format,
                         std::string_view bucket_hint) {
  switch (format) {
    case Format::kJson:
      return RenderJson(report);
    case Format::kCsv:
      return RenderCsv(report);
    case Format::kTable:
      break;
  }
  return RenderTable(report, bucket_hint);
}

bool IsAdditiveColumn(std::string_view column) {
  if (IsTimestampColumn(column)) return false;
  std::string name;
  for (char c : column) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  static constexpr std::string_view kNotAdditive[] = {
      "rate",   "ratio", "share", "pct",  "percent", "avg",      "mean",
      "median", "max",   "min",   "peak", "unique",  "distinct", "percentile"};
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('_', start);
    if (end == std::string::npos) end = name.size();
    const std::string_view word = std::string_view(name).substr(start, end - start);
    if (std::find(std::begin(kNotAdditive), std::end(kNotAdditive), word) !=
        std::end(kNotAdditive)) {
      return false;
    }
    // p50, p90, p99, p999: percentiles.
    if (word.size() >= 2 && word[0] == 'p' &&
        word.find_first_not_of("0123456789", 1) == std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

absl::StatusOr<svg::Chart> ReportChart(const wire::ReportResult& report,
                                       const ChartOptions& options, std::string_view bucket_hint) {
  svg::ChartType type = svg::ChartType::kLine;
  if (!options.type.empty() && options.type != "line" && options.type != "bar") {
    return absl::InvalidArgumentError(
        StrCat("--chart_type=", options.type, ": expected line or bar"));
  }
  const std::vector<TableView> tables = Tables(report);
  if (tables.empty()) return absl::InvalidArgumentError("the report has no tables to chart");
  const TableView* table = &tables[0];
  if (!options.table.empty()) {
    std::vector<std::string> names;
    for (const TableView& t : tables) names.push_back(t.name);
    const std::string* name = Pick(names, options.table);
    if (name == nullptr) {
      return absl::InvalidArgumentError(StrCat("--chart_table: the report has no table '",
                                               options.table, "'; its tables: ", Quoted(names)));
    }
    table = &tables[name - names.data()];
  }
  const std::string table_name = table->name.empty() ? "report" : table->name;
  if (table->columns.empty()) {
    return absl::InvalidArgumentError(StrCat("table '", table_name, "' has no columns to chart"));
  }
  const std::string* column = &table->columns[0];
  if (!options.column.empty()) {
    column = Pick(table->columns, options.column);
    if (column == nullptr) {
      return absl::InvalidArgumentError(StrCat("--chart_column: table '", table_name,
                                               "' has no column '", options.column,
                                               "'; its columns: ", Quoted(table->columns)));
    }
  }
  const size_t c = column - table->columns.data();

  svg::Chart chart;
  chart.buckets = table->buckets;
  if (chart.buckets.empty()) {  // not sent: the buckets that have rows
    for (size_t i = 0; i < table->row_count(); ++i) {
      chart.buckets.push_back(table->rows->Get(i)->bucket_start());
    }
  }
  std::sort(chart.buckets.begin(), chart.buckets.end());
  chart.buckets.erase(std::unique(chart.buckets.begin(), chart.buckets.end()), chart.buckets.end());
  std::map<int64_t, size_t> bucket_index;
  for (size_t i = 0; i < chart.buckets.size(); ++i) bucket_index[chart.buckets[i]] = i;

  // One series per key, in order of first appearance; absent cells are 0.
  std::vector<svg::Series> series;
  std::map<std::string, size_t> series_index;
  for (size_t i = 0; i < table->row_count(); ++i) {
    const wire::ReportRow& r = *table->rows->Get(i);
    const auto b = bucket_index.find(r.bucket_start());
    if (b == bucket_index.end()) continue;
    std::string key = Str(r.key());
    if (!table->keyed) key = *column;
    auto [it, added] = series_index.emplace(key, series.size());
    if (added) {
      series.push_back({key.empty() ? "(empty)" : key, std::vector<double>(chart.buckets.size())});
    }
    if (r.values() != nullptr && c < r.values()->size()) {
      series[it->second].values[b->second] = r.values()->Get(c);
    }
  }
  // Keys that are 0 in every bucket would draw nothing (bars) or hide on
  // the axis (lines): the note names them instead of the legend.
  std::vector<std::string> zeros;
  if (std::any_of(series.begin(), series.end(), [](const svg::Series& s) {
        return std::any_of(s.values.begin(), s.values.end(), [](double v) { return v != 0; });
      })) {
    std::erase_if(series, [&zeros](const svg::Series& s) {
      const bool zero =
          std::all_of(s.values.begin(), s.values.end(), [](double v) { return v == 0; });
      if (zero) zeros.push_back(s.name);
      return zero;
    });
  }
  const bool additive = IsAdditiveColumn(*column);
  svg::TopSeriesResult top = svg::TopSeries(std::move(series), svg::kMaxNamedSeries, additive);
  chart.series = std::move(top.series);
  std::vector<std::string> notes;
  if (top.folded > 0 && !additive) {
    notes.push_back(StrCat(top.folded, " more ",
                           table->dimension.empty() ? "keys" : table->dimension,
                           " values not shown (", *column, " does not add up into \"other\")"));
  }
  if (!zeros.empty()) {
    constexpr size_t kNamed = 4;
    std::string names = StrJoin(
        std::vector<std::string>(zeros.begin(), zeros.begin() + std::min(zeros.size(), kNamed)),
        ", ");
    if (zeros.size() > kNamed) names += StrCat(" and ", zeros.size() - kNamed, " more");
    notes.push_back(StrCat("0 throughout: ", names));
  }
  chart.note = StrJoin(notes, "; ");
  chart.width = BucketWidthOf(chart.buckets, bucket_hint);
  if (options.type == "bar") {
    type = svg::ChartType::kBar;
  } else if (options.type.empty() && chart.buckets.size() <= kMaxBarBuckets) {
    type = svg::ChartType::kBar;
  }
  chart.type = type;
  chart.stacked = additive;
  chart.title = StrCat(table_name, ": ", *column);
  // "by provider · 2026-11-20 .. 2026-11-22 UTC · 3 daily buckets · stacked"
  std::vector<std::string> about;
  if (!table->dimension.empty()) about.push_back(StrCat("by ", table->dimension));
  if (!chart.buckets.empty()) {
    about.push_back(StrCat(BucketSpan(chart.buckets, chart.width, /*plain=*/true), " UTC"));
  }
  about.push_back(BucketCount(chart.buckets.size(), chart.width));
  if (type == svg::ChartType::kBar && chart.series.size() > 1) {
    about.push_back(additive ? "stacked" : "side by side");
  }
  chart.subtitle = StrJoin(about, " \xc2\xb7 ");
  chart.legend_title = table->dimension;
  return chart;
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  auto failed = [&](const std::string& what, int error) {
    return absl::Status(absl::ErrnoToStatusCode(error),
                        StrCat("cannot ", what, " ", path, ": ", std::strerror(error)));
  };
  if (path.empty()) return absl::InvalidArgumentError("no file name to write");
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = StrCat(path, ".tmp-", static_cast<int64_t>(::getpid()), "-", attempt);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) return failed("write", errno);
  }
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return failed("write", error);
    }
    done += static_cast<size_t>(n);
  }
  const int synced = ::fsync(fd) == 0 ? 0 : errno;
  const int closed = ::close(fd) == 0 ? 0 : errno;
  if (synced != 0 || closed != 0) {
    ::unlink(tmp.c_str());
    return failed("write", synced != 0 ? synced : closed);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return failed("replace", error);
  }
  return absl::OkStatus();
}

}  // namespace vox::voxctl
