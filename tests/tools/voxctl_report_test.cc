// voxctl's report printing and charts (tools/voxctl_report.h,
// tools/svg_chart.h), without a server: ReportResult buffers built with the
// generated FlatBuffers code, printed as table, CSV and JSON and drawn as
// SVG, which is checked with a small XML tag scanner.
#include "tools/voxctl_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "schema/voxdb_generated.h"
#include "tools/svg_chart.h"
#include "tools/voxctl_output.h"

namespace vox::voxctl {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1000000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kNov20 = int64_t{1795132800} * 1000000;  // 2026-11-20T00:00:00Z, a Friday

struct Row {
  int64_t bucket;
  std::string key;
  std::vector<double> values;
};
struct TableSpec {
  std::string name, dimension;
  std::vector<std::string> columns;
  std::vector<int64_t> buckets;
  std::vector<Row> rows;
};

// A finished ReportResult buffer.
class Report {
 public:
  Report(const std::vector<TableSpec>& tables, uint64_t lsn = 42, uint64_t scanned = 5000,
         double micros = 1234.5) {
    std::vector<flatbuffers::Offset<wire::ReportTable>> offsets;
    for (const TableSpec& t : tables) {
      std::vector<flatbuffers::Offset<wire::ReportRow>> rows;
      for (const Row& r : t.rows) {
        rows.push_back(wire::CreateReportRowDirect(b_, r.bucket, r.key.c_str(), &r.values));
      }
      std::vector<flatbuffers::Offset<flatbuffers::String>> columns;
      for (const std::string& c : t.columns) columns.push_back(b_.CreateString(c));
      offsets.push_back(wire::CreateReportTableDirect(b_, t.name.c_str(), t.dimension.c_str(),
                                                      &columns, &t.buckets, &rows));
    }
    b_.Finish(wire::CreateReportResultDirect(b_, &offsets, lsn, scanned, micros));
    flatbuffers::Verifier verifier(b_.GetBufferPointer(), b_.GetSize());
    EXPECT_TRUE(verifier.VerifyBuffer<wire::ReportResult>(nullptr));
  }
  const wire::ReportResult& get() const {
    return *flatbuffers::GetRoot<wire::ReportResult>(b_.GetBufferPointer());
  }

 private:
  flatbuffers::FlatBufferBuilder b_;
};

// Sign-ups by provider over three days, with gaps (no email row on the
// 21st, no google row on the 22nd) and a rate column; and a second table.
std::vector<TableSpec> IdentityExample() {
  const std::vector<int64_t> days = {kNov20, kNov20 + kDay, kNov20 + 2 * kDay};
  return {
      {"identity",
       "provider",
       {"signups", "logins_failed", "login_failure_rate"},
       days,
       {{kNov20, "email", {12, 1, 1.0 / 13}},
        {kNov20, "google", {1530, 0, 0}},
        {kNov20 + kDay, "google", {25, 2, 2.0 / 27}},
        {kNov20 + 2 * kDay, "email", {3, 1, 0.25}}}},
      {"failure_reasons",
       "reason",
       {"failed", "share"},
       days,
       {{kNov20 + kDay, "ICE_TIMEOUT, \"late\"", {2, 1}}}},
  };
}

TEST(ReportTableTest, HeadingAlignedColumnsAndFooter) {
  Report r(IdentityExample());
  EXPECT_EQ(RenderReport(r.get(), Format::kTable),
            "identity by provider: 2026-11-20 .. 2026-11-22 (3 daily buckets)\n"
            "bucket      provider  signups  logins_failed  login_failure_rate\n"
            "2026-11-20  email          12              1               0.077\n"
            "2026-11-20  google       1530              0                   0\n"
            "2026-11-21  google         25              2               0.074\n"
            "2026-11-22  email           3              1                0.25\n"
            "\n"
            "failure_reasons by reason: 2026-11-20 .. 2026-11-22 (3 daily buckets)\n"
            "bucket      reason               failed  share\n"
            "2026-11-21  ICE_TIMEOUT, \"late\"       2      1\n"
            "\n"
            "snapshot LSN 42, 5000 rows scanned, 1.23 ms\n");
}

TEST(ReportTableTest, HourlyBucketsNoDimensionTimestampsAndEmptyTables) {
  Report r({{"events",
             "",
             {"errors", "first_error_at", "p99_ms"},
             {kNov20 + 13 * kHour, kNov20 + 14 * kHour},
             {{kNov20 + 13 * kHour, "", {7, double(kNov20 + 13 * kHour + 1500000), 0.0001234}}}},
            {"bursts", "component", {"errors"}, {kNov20 + 13 * kHour}, {}}},
           7, 0, 25000000);
  EXPECT_EQ(RenderReport(r.get(), Format::kTable, "hour"),
            "events: 2026-11-20T13:00:00Z .. 2026-11-20T14:00:00Z (2 hourly buckets)\n"
            "bucket                errors  first_error_at                 p99_ms\n"
            "2026-11-20T13:00:00Z       7  2026-11-20T13:00:01.500000Z  0.000123\n"
            "\n"
            "bursts by component: 2026-11-20T13:00:00Z (1 hourly bucket)\n"
            "bucket  component  errors\n"
            "(no rows)\n"
            "\n"
            "snapshot LSN 7, 0 rows scanned, 25.0 s\n");
}

TEST(ReportCsvTest, OneCsvPerTableSeparatedByABlankLine) {
  Report r(IdentityExample());
  EXPECT_EQ(RenderReport(r.get(), Format::kCsv),
            "table,bucket,provider,signups,logins_failed,login_failure_rate\n"
            "identity,2026-11-20T00:00:00Z,email,12,1,0.07692307692307693\n"
            "identity,2026-11-20T00:00:00Z,google,1530,0,0\n"
            "identity,2026-11-21T00:00:00Z,google,25,2,0.07407407407407407\n"
            "identity,2026-11-22T00:00:00Z,email,3,1,0.25\n"
            "\n"
            "table,bucket,reason,failed,share\n"
            "failure_reasons,2026-11-21T00:00:00Z,\"ICE_TIMEOUT, \"\"late\"\"\",2,1\n");
}

TEST(ReportJsonTest, OneDocumentWithAnObjectPerRow) {
  Report r(IdentityExample());
  const std::string json = RenderReport(r.get(), Format::kJson);
  EXPECT_EQ(json,
            R"({"tables":[{"name":"identity","dimension":"provider",)"
            R"("columns":["signups","logins_failed","login_failure_rate"],)"
            R"("buckets":["2026-11-20T00:00:00Z","2026-11-21T00:00:00Z","2026-11-22T00:00:00Z"]},)"
            R"({"name":"failure_reasons","dimension":"reason","columns":["failed","share"],)"
            R"("buckets":["2026-11-20T00:00:00Z","2026-11-21T00:00:00Z","2026-11-22T00:00:00Z"]}],)"
            "\n"
            R"("rows":[)"
            "\n"
            R"({"table":"identity","bucket":"2026-11-20T00:00:00Z","key":"email","signups":12,)"
            R"("logins_failed":1,"login_failure_rate":0.07692307692307693},)"
            "\n"
            R"({"table":"identity","bucket":"2026-11-20T00:00:00Z","key":"google","signups":1530,)"
            R"("logins_failed":0,"login_failure_rate":0},)"
            "\n"
            R"({"table":"identity","bucket":"2026-11-21T00:00:00Z","key":"google","signups":25,)"
            R"("logins_failed":2,"login_failure_rate":0.07407407407407407},)"
            "\n"
            R"({"table":"identity","bucket":"2026-11-22T00:00:00Z","key":"email","signups":3,)"
            R"("logins_failed":1,"login_failure_rate":0.25},)"
            "\n"
            R"({"table":"failure_reasons","bucket":"2026-11-21T00:00:00Z",)"
            R"("key":"ICE_TIMEOUT, \"late\"","failed":2,"share":1}],)"
            "\n"
            R"("snapshot_lsn":42,"rows_scanned":5000,"micros":1234.5})"
            "\n");
  // The generic scanner reads each row line back as a flat JSON object.
  std::istringstream lines(json);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (!line.starts_with("{\"table\"")) continue;
    if (line.ends_with(",")) line.pop_back();
    if (line.ends_with("]")) line.pop_back();  // the last row closes the list
    EXPECT_TRUE(ParseFlatJsonObject(line).has_value()) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 5);
}

// ---- SVG checks ----

struct Element {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text;  // character data directly inside, entities as written
};

// A minimal XML scanner: every tag closed in order, one root, attribute
// values quoted, no raw '<' or stray '&' in text. Returns the elements in
// document order, or nullopt with `error` set.
std::optional<std::vector<Element>> ScanXml(const std::string& xml, std::string* error) {
  std::vector<Element> elements;
  std::vector<size_t> open;  // indexes into elements
  size_t roots = 0;
  size_t i = 0;
  auto fail = [&](const std::string& why) {
    *error = why + " at offset " + std::to_string(i);
    return std::nullopt;
  };
  auto check_text = [&](std::string_view text) {
    for (size_t p = 0; p < text.size(); ++p) {
      if (text[p] != '&') continue;
      const size_t semi = text.find(';', p);
      if (semi == std::string_view::npos) return false;
      const std::string_view entity = text.substr(p, semi - p + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;") {
        return false;
      }
    }
    return true;
  };
  if (xml.starts_with("<?xml")) {
    i = xml.find("?>");
    if (i == std::string::npos) return fail("unterminated declaration");
    i += 2;
  }
  while (i < xml.size()) {
    const size_t lt = xml.find('<', i);
    const std::string_view text(xml.data() + i, (lt == std::string::npos ? xml.size() : lt) - i);
    if (!check_text(text)) return fail("a bad entity in text");
    if (!open.empty()) elements[open.back()].text += text;
    if (lt == std::string::npos) break;
    i = lt + 1;
    if (xml.compare(i, 1, "/") == 0) {  // a closing tag
      const size_t gt = xml.find('>', i);
      if (gt == std::string::npos) return fail("unterminated closing tag");
      const std::string name = xml.substr(i + 1, gt - i - 1);
      if (open.empty() || elements[open.back()].name != name) return fail("unbalanced </" + name);
      open.pop_back();
      i = gt + 1;
      continue;
    }
    Element e;
    while (i < xml.size() && std::isalnum(static_cast<unsigned char>(xml[i]))) e.name += xml[i++];
    if (e.name.empty()) return fail("a tag without a name");
    bool self_closing = false;
    while (true) {
      while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) ++i;
      if (i >= xml.size()) return fail("unterminated tag");
      if (xml.compare(i, 2, "/>") == 0) {
        self_closing = true;
        i += 2;
        break;
      }
      if (xml[i] == '>') {
        ++i;
        break;
      }
      std::string attr;
      while (i < xml.size() &&
             (std::isalnum(static_cast<unsigned char>(xml[i])) || xml[i] == '-' || xml[i] == ':')) {
        attr += xml[i++];
      }
      if (attr.empty() || xml.compare(i, 2, "=\"") != 0) return fail("a bad attribute");
      const size_t end = xml.find('"', i + 2);
      if (end == std::string::npos) return fail("unterminated attribute");
      const std::string value = xml.substr(i + 2, end - i - 2);
      if (value.find('<') != std::string::npos || !check_text(value)) {
        return fail("a bad attribute value");
      }
      if (!e.attributes.emplace(attr, value).second) return fail("a repeated attribute");
      i = end + 1;
    }
    if (open.empty() && ++roots > 1) return fail("a second root");
    elements.push_back(std::move(e));
    if (!self_closing) open.push_back(elements.size() - 1);
  }
  if (!open.empty()) return fail("<" + elements[open.back()].name + "> is not closed");
  if (roots != 1) return fail("no root");
  return elements;
}

std::vector<Element> Parsed(const std::string& svg) {
  std::string error;
  std::optional<std::vector<Element>> elements = ScanXml(svg, &error);
  EXPECT_TRUE(elements.has_value()) << error << "\n" << svg;
  return elements.value_or(std::vector<Element>{});
}

std::vector<const Element*> WithClass(const std::vector<Element>& elements, const std::string& cls,
                                      const std::string& name = "") {
  std::vector<const Element*> out;
  for (const Element& e : elements) {
    auto it = e.attributes.find("class");
    if (it != e.attributes.end() && it->second == cls && (name.empty() || e.name == name)) {
      out.push_back(&e);
    }
  }
  return out;
}

// Every coordinate is a finite number inside the 900 x 480 viewBox.
void ExpectCoordinatesInside(const std::vector<Element>& elements) {
  static const std::regex kNumber(R"(-?[0-9]+(\.[0-9]+)?)");
  for (const Element& e : elements) {
    for (const auto& [attr, value] : e.attributes) {
      const bool horizontal =
          attr == "x" || attr == "x1" || attr == "x2" || attr == "cx" || attr == "width";
      const bool vertical =
          attr == "y" || attr == "y1" || attr == "y2" || attr == "cy" || attr == "height";
      if (attr == "points") {
        std::istringstream in(value);
        std::string pair;
        while (in >> pair) {
          const size_t comma = pair.find(',');
          ASSERT_NE(comma, std::string::npos) << pair;
          const std::string x = pair.substr(0, comma), y = pair.substr(comma + 1);
          ASSERT_TRUE(std::regex_match(x, kNumber) && std::regex_match(y, kNumber)) << pair;
          EXPECT_GE(std::stod(x), 0);
          EXPECT_LE(std::stod(x), svg::kChartWidth);
          EXPECT_GE(std::stod(y), 0);
          EXPECT_LE(std::stod(y), svg::kChartHeight);
        }
      } else if (horizontal || vertical) {
        if (e.name == "svg") continue;  // width="900" height="480"
        ASSERT_TRUE(std::regex_match(value, kNumber)) << e.name << " " << attr << "=" << value;
        const double v = std::stod(value);
        EXPECT_TRUE(std::isfinite(v));
        EXPECT_GE(v, 0) << e.name << " " << attr;
        EXPECT_LE(v, horizontal ? svg::kChartWidth : svg::kChartHeight) << e.name << " " << attr;
      }
    }
  }
}

// The y tick labels are numbers a constant step apart, the step 1, 2 or 5
// times a power of ten, starting at or below 0.
void ExpectRoundTicks(const std::vector<Element>& elements) {
  std::vector<double> ticks;
  for (const Element* e : WithClass(elements, "ytick")) {
    std::string t = e->text;
    double scale = 1;
    if (t.ends_with("k")) scale = 1e3, t.pop_back();
    if (t.ends_with("M")) scale = 1e6, t.pop_back();
    ticks.push_back(std::stod(t) * scale);
  }
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_LE(ticks.front(), 0);
  const double step = ticks[1] - ticks[0];
  for (size_t i = 1; i < ticks.size(); ++i) EXPECT_NEAR(ticks[i] - ticks[i - 1], step, 1e-9);
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
  EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 ||
              std::fabs(mantissa - 5) < 1e-9)
      << step;
}

// A key with markup in it, two keys with gaps, over `days` days.
Report KeysReport(int days, const std::string& column = "signups") {
  std::vector<int64_t> buckets;
  std::vector<Row> rows;
  for (int d = 0; d < days; ++d) {
    buckets.push_back(kNov20 + d * kDay);
    if (d % 3 != 1) rows.push_back({kNov20 + d * kDay, "<&> \"x\"", {double(10 + d), 0.5}});
    if (d % 4 != 2) rows.push_back({kNov20 + d * kDay, "google", {double(3 * d), 0.25}});
  }
  return Report({{"identity", "provider", {column, "login_failure_rate"}, buckets, rows}});
}

TEST(ReportChartTest, FewBucketsDrawStackedBarsWithGapsAsZero) {
  Report r = KeysReport(6);
  absl::StatusOr<svg::Chart> chart = ReportChart(r.get(), {.path = "x.svg"});
  ASSERT_TRUE(chart.ok()) << chart.status();
  EXPECT_EQ(chart->type, svg::ChartType::kBar);
  EXPECT_TRUE(chart->stacked);
  EXPECT_EQ(chart->width, svg::BucketWidth::kDay);
  ASSERT_EQ(chart->series.size(), 2u);
  EXPECT_EQ(chart->series[0].name, "<&> \"x\"");  // the larger total first
  EXPECT_EQ(chart->series[0].values, (std::vector<double>{10, 0, 12, 13, 0, 15}));
  EXPECT_EQ(chart->series[1].values, (std::vector<double>{0, 3, 0, 9, 12, 15}));
  EXPECT_EQ(chart->title, "identity: signups");
  EXPECT_EQ(chart->subtitle,
            "by provider \xc2\xb7 2026-11-20 .. 2026-11-25 UTC \xc2\xb7 6 daily buckets \xc2\xb7 "
            "stacked");

  const std::string svg = svg::RenderSvg(*chart);
  const std::vector<Element> elements = Parsed(svg);
  ASSERT_FALSE(elements.empty());
  EXPECT_EQ(elements[0].name, "svg");
  EXPECT_EQ(elements[0].attributes.at("viewBox"), "0 0 900 480");
  EXPECT_EQ(WithClass(elements, "title")[0]->text, "identity: signups");
  // A rect per non-zero cell; no polyline.
  EXPECT_EQ(WithClass(elements, "bar", "rect").size(), 8u);
  EXPECT_EQ(svg.find("<polyline"), std::string::npos);
  // The legend, escaped; the key never appears raw.
  const auto legend = WithClass(elements, "legend-entry");
  ASSERT_EQ(legend.size(), 2u);
  EXPECT_NE(svg.find("&lt;&amp;&gt; &quot;x&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("<&>"), std::string::npos);
  EXPECT_EQ(WithClass(elements, "legend-title")[0]->text, "provider");
  // Every bucket labelled, by date.
  const auto labels = WithClass(elements, "xtick");
  ASSERT_EQ(labels.size(), 6u);
  EXPECT_EQ(labels[0]->text, "Nov 20");
  EXPECT_EQ(WithClass(elements, "xtick2")[0]->text, "2026");
  ExpectRoundTicks(elements);
  ExpectCoordinatesInside(elements);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  EXPECT_EQ(svg.find("url("), std::string::npos);
}

TEST(ReportChartTest, ManyBucketsDrawOneLinePerSeriesWithSparseLabels) {
  Report r = KeysReport(40);
  absl::StatusOr<svg::Chart> chart = ReportChart(r.get(), {.path = "x.svg"});
  ASSERT_TRUE(chart.ok()) << chart.status();
  EXPECT_EQ(chart->type, svg::ChartType::kLine);
  const std::string svg = svg::RenderSvg(*chart);
  const std::vector<Element> elements = Parsed(svg);
  EXPECT_EQ(WithClass(elements, "line", "polyline").size(), 2u);
  EXPECT_EQ(WithClass(elements, "bar").size(), 0u);
  // 40 days do not fit: Mondays are labelled (Nov 23, 30, Dec 7, ...).
  const auto labels = WithClass(elements, "xtick");
  ASSERT_GE(labels.size(), 4u);
  ASSERT_LE(labels.size(), 10u);
  EXPECT_EQ(labels[0]->text, "Nov 23");
  EXPECT_EQ(labels[1]->text, "Nov 30");
  EXPECT_EQ(WithClass(elements, "legend-entry").size(), 2u);
  ExpectRoundTicks(elements);
  ExpectCoordinatesInside(elements);
}

TEST(ReportChartTest, ChosenTableColumnAndType) {
  Report r = KeysReport(6);
  absl::StatusOr<svg::Chart> chart = ReportChart(
      r.get(),
      {.path = "x.svg", .table = "identity", .column = "login_failure_rate", .type = "bar"});
  ASSERT_TRUE(chart.ok()) << chart.status();
  EXPECT_FALSE(chart->stacked);  // rates do not add up: side by side
  EXPECT_EQ(chart->title, "identity: login_failure_rate");
  const std::string svg = svg::RenderSvg(*chart);
  const std::vector<Element> elements = Parsed(svg);
  EXPECT_EQ(WithClass(elements, "bar", "rect").size(), 9u);  // every non-zero rate
  ExpectCoordinatesInside(elements);
  // Rates: ticks at 0, 0.1, ...
  const auto ticks = WithClass(elements, "ytick");
  ASSERT_GE(ticks.size(), 2u);
  EXPECT_EQ(ticks[1]->text, "0.1");

  chart = ReportChart(r.get(), {.path = "x.svg", .type = "line"});
  ASSERT_TRUE(chart.ok());
  EXPECT_EQ(WithClass(Parsed(svg::RenderSvg(*chart)), "line", "polyline").size(), 2u);
}

TEST(ReportChartTest, UnknownTableOrColumnNamesWhatExists) {
  Report r(IdentityExample());
  absl::StatusOr<svg::Chart> chart = ReportChart(r.get(), {.path = "x.svg", .column = "nope"});
  ASSERT_FALSE(chart.ok());
  EXPECT_EQ(chart.status().message(),
            "--chart_column: table 'identity' has no column 'nope'; its columns: 'signups', "
            "'logins_failed', 'login_failure_rate'");
  chart = ReportChart(r.get(), {.path = "x.svg", .table = "calls"});
  ASSERT_FALSE(chart.ok());
  EXPECT_EQ(chart.status().message(),
            "--chart_table: the report has no table 'calls'; its tables: 'identity', "
            "'failure_reasons'");
  chart = ReportChart(r.get(), {.path = "x.svg", .table = "FailureReasons", .column = "SHARE"});
  ASSERT_TRUE(chart.ok()) << chart.status();
  EXPECT_EQ(chart->title, "failure_reasons: share");
  EXPECT_FALSE(ReportChart(Report({}).get(), {.path = "x.svg"}).ok());
}

TEST(ReportChartTest, TopEightKeysAndTheRestAsOther) {
  std::vector<Row> rows;
  for (int k = 0; k < 11; ++k) {
    rows.push_back({kNov20, "key" + std::to_string(k), {double(k + 1), double(k) / 10}});
    rows.push_back({kNov20 + kDay, "key" + std::to_string(k), {double(k + 1), double(k) / 10}});
  }
  Report r({{"rooms", "tag", {"created", "avg_duration_seconds"}, {kNov20, kNov20 + kDay}, rows}});
  absl::StatusOr<svg::Chart> chart = ReportChart(r.get(), {.path = "x.svg"});
  ASSERT_TRUE(chart.ok());
  ASSERT_EQ(chart->series.size(), 9u);
  EXPECT_EQ(chart->series[0].name, "key10");
  EXPECT_EQ(chart->series[8].name, "other (3 keys)");
  EXPECT_EQ(chart->series[8].values, (std::vector<double>{6, 6}));  // 1 + 2 + 3
  const std::vector<Element> elements = Parsed(svg::RenderSvg(*chart));
  EXPECT_EQ(WithClass(elements, "legend-entry").size(), 9u);
  EXPECT_EQ(WithClass(elements, "bar", "rect").size(), 18u);
  ExpectCoordinatesInside(elements);

  // An average does not add up: the rest is left out, and the note says
  // so; key0, 0 throughout, is named in the note, not drawn.
  chart = ReportChart(r.get(), {.path = "x.svg", .column = "avg_duration_seconds"});
  ASSERT_TRUE(chart.ok());
  EXPECT_EQ(chart->series.size(), 8u);
  EXPECT_EQ(chart->note,
            "2 more tag values not shown (avg_duration_seconds does not add up into \"other\"); "
            "0 throughout: key0");
  EXPECT_EQ(WithClass(Parsed(svg::RenderSvg(*chart)), "note")[0]->text,
            "2 more tag values not shown (avg_duration_seconds does not add up into "
            "&quot;other&quot;); 0 throughout: key0");
}

TEST(SvgChartTest, HourlyAxisLabelsByTheClock) {
  svg::Chart chart{.title = "calls: attempts", .width = svg::BucketWidth::kHour};
  svg::Series s{"attempts", {}};
  for (int h = 0; h < 48; ++h) {
    chart.buckets.push_back(kNov20 + 5 * kHour + h * kHour);
    s.values.push_back(h % 7 * 1000.0);
  }
  chart.series = {s};
  const std::vector<Element> elements = Parsed(svg::RenderSvg(chart));
  std::vector<std::string> labels;
  for (const Element* e : WithClass(elements, "xtick")) labels.push_back(e->text);
  // Every 6 hours from 06:00; midnights show the new date.
  EXPECT_EQ(labels, (std::vector<std::string>{"06:00", "12:00", "18:00", "Nov 21", "06:00", "12:00",
                                              "18:00", "Nov 22"}));
  EXPECT_EQ(WithClass(elements, "xtick2")[0]->text, "Nov 20");
  const auto ticks = WithClass(elements, "ytick");
  EXPECT_EQ(ticks.back()->text, "6000");
  ExpectRoundTicks(elements);
  ExpectCoordinatesInside(elements);
  // Past 10,000 the labels are compact.
  for (double& v : chart.series[0].values) v *= 25;
  const std::vector<Element> big = Parsed(svg::RenderSvg(chart));
  EXPECT_EQ(WithClass(big, "ytick")[1]->text, "50k");
  EXPECT_EQ(WithClass(big, "ytick").back()->text, "150k");
  ExpectRoundTicks(big);
}

TEST(SvgChartTest, EmptyAndDegenerateChartsStayInside) {
  svg::Chart empty{.title = "nothing <here>"};
  std::vector<Element> elements = Parsed(svg::RenderSvg(empty));
  EXPECT_EQ(WithClass(elements, "empty")[0]->text, "no data");
  ExpectCoordinatesInside(elements);

  svg::Chart one{.title = "one", .buckets = {kNov20}, .width = svg::BucketWidth::kDay};
  one.series = {{"a", {std::nan("")}}, {"b", {-3}}, {"c", {HUGE_VAL}}};
  one.type = svg::ChartType::kBar;
  one.stacked = true;  // a negative value: grouped instead
  elements = Parsed(svg::RenderSvg(one));
  EXPECT_EQ(WithClass(elements, "bar", "rect").size(), 1u);
  ExpectCoordinatesInside(elements);
  one.type = svg::ChartType::kLine;
  elements = Parsed(svg::RenderSvg(one));
  EXPECT_EQ(WithClass(elements, "line", "polyline").size(), 3u);
  ExpectCoordinatesInside(elements);
}

TEST(SvgChartTest, NiceTicksStepByOneTwoFive) {
  EXPECT_EQ(svg::NiceTicks(0, 37, 5, true), (std::vector<double>{0, 10, 20, 30, 40}));
  EXPECT_EQ(svg::NiceTicks(0, 1530, 5, true), (std::vector<double>{0, 500, 1000, 1500, 2000}));
  EXPECT_EQ(svg::NiceTicks(0, 3, 5, true), (std::vector<double>{0, 1, 2, 3}));
  EXPECT_EQ(svg::NiceTicks(0, 0, 5, true), (std::vector<double>{0, 1}));
  EXPECT_EQ(svg::NiceTicks(-12, 7, 5, true), (std::vector<double>{-15, -10, -5, 0, 5, 10}));
  const std::vector<double> rates = svg::NiceTicks(0, 0.42, 5, false);
  ASSERT_EQ(rates.size(), 6u);
  EXPECT_NEAR(rates[1], 0.1, 1e-12);
  EXPECT_NEAR(rates.back(), 0.5, 1e-12);
}

TEST(SvgChartTest, EscapesMarkupAndControlCharacters) {
  EXPECT_EQ(svg::XmlEscape("a<b>&\"c'\x01"), "a&lt;b&gt;&amp;&quot;c&apos;?");
}

TEST(ReportColumnsTest, WhatAddsUp) {
  for (const char* c : {"signups", "logins_failed", "total_duration_seconds", "posted_amount"}) {
    EXPECT_TRUE(IsAdditiveColumn(c)) << c;
  }
  for (const char* c :
       {"login_failure_rate", "share", "avg_bitrate_kbps", "p99_rtt_ms", "max_peak_participants",
        "unique_login_users", "distinct_targets", "avg_capacity_used_pct", "first_error_at"}) {
    EXPECT_FALSE(IsAdditiveColumn(c)) << c;
  }
}

TEST(WriteFileAtomicallyTest, ReplacesTheFileOrSaysWhyNot) {
  char dir_template[] = "/tmp/voxctl-report-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/chart.svg";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "<svg/>").ok());
  std::ifstream in(path);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(contents, "<svg/>");
  const absl::Status missing = WriteFileAtomically(dir + "/no/such/dir/x.svg", "x");
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_NE(missing.message().find("cannot write " + dir + "/no/such/dir/x.svg"), std::string::npos)
      << missing;
  std::remove(path.c_str());
  EXPECT_EQ(::rmdir(dir.c_str()), 0);  // no temporary file left behind
}

}  // namespace
}  // namespace vox::voxctl
