// A time series drawn as a self-contained SVG chart (no scripts, fonts or
// other resources), for `voxctl call ...Report --chart=FILE.svg`
// (docs/voxctl.md, "Reports and charts"). Knows nothing of the wire
// protocol: it takes plain series of numbers, one value per time bucket.
//
//   svg::Chart chart{.title = "identity: signups", .buckets = starts,
//                    .width = svg::BucketWidth::kDay};
//   chart.series = svg::TopSeries(std::move(by_key), 8, /*sum_rest=*/true).series;
//   std::string text = svg::RenderSvg(chart);
//
// The picture: title and subtitle on top; a y axis with round ticks
// (1-2-5 steps) and light grid lines; an x axis labelled by the clock
// (every hour, 3 hours, ..., day, Monday, ... as space allows) in UTC; one
// line or bar series per key in the Okabe-Ito colour-blind-safe palette
// (a series named by TopSeries' fold, "other ...", in grey); a legend on the
// right. 900 x 480 user units.
//
// Thread-compatible; pure functions.
#ifndef VOXDB_TOOLS_SVG_CHART_H_
#define VOXDB_TOOLS_SVG_CHART_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vox::svg {

enum class ChartType { kLine, kBar };

// How long one bucket is: the x axis' labels follow it.
enum class BucketWidth { kUnknown, kHour, kDay, kWeek };

inline constexpr int kChartWidth = 900;
inline constexpr int kChartHeight = 480;
// Named colours; a chart shows at most this many series plus "other".
inline constexpr size_t kMaxNamedSeries = 8;

struct Series {
  std::string name;
  std::vector<double> values;  // one per bucket; NaN and infinities are drawn as 0
  bool other = false;          // the rest folded together: drawn in grey, last
};

struct Chart {
  std::string title;
  std::string subtitle;
  std::string legend_title;      // e.g. the dimension, "provider"; empty: none
  std::vector<int64_t> buckets;  // bucket starts, microseconds since the epoch, ascending
  BucketWidth width = BucketWidth::kUnknown;
  std::vector<Series> series;  // drawn and listed in this order
  ChartType type = ChartType::kLine;
  // Bars only: stacked (each bucket's bar is the sum of its series) or
  // grouped side by side. Stacking needs values that add up and are >= 0;
  // with a negative value bars are grouped.
  bool stacked = false;
  std::string note;  // a footnote under the x axis, e.g. keys not shown
  // Categories instead of time: one label per bucket ("R1", or two lines
  // "R1\n32 clients"), every one shown, and the x axis titled `x_title`;
  // `buckets` then only count the positions.
  std::vector<std::string> categories;
  std::string x_title;
};

// The SVG document. REQUIRES: every series has buckets.size() values.
std::string RenderSvg(const Chart& chart);

// Tick values covering [lo, hi], about `target` of them, at multiples of a
// step of 1, 2 or 5 times a power of ten; at least 1 apart with `integers`.
// Always at least two ticks; [0, 1] when lo == hi == 0.
std::vector<double> NiceTicks(double lo, double hi, int target, bool integers);

// The `max_named` series with the largest totals (ties: in the given
// order), largest first; then, when more are left than one, the rest
// summed into one series "other (N keys)" with `sum_rest`, or dropped
// without it (values that do not add up, such as rates). A single leftover
// is kept as itself.
struct TopSeriesResult {
  std::vector<Series> series;
  size_t folded = 0;  // series summed into "other" or dropped
};
TopSeriesResult TopSeries(std::vector<Series> all, size_t max_named, bool sum_rest);

// `text` for XML character data and attribute values: & < > " ' escaped,
// control characters XML 1.0 does not allow replaced by '?'.
std::string XmlEscape(std::string_view text);

}  // namespace vox::svg

#endif  // VOXDB_TOOLS_SVG_CHART_H_
