#include "tools/svg_chart.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <numeric>
#include <utility>

namespace vox::svg {
namespace {

// ---- Layout (user units) ----
constexpr double kPlotLeft = 72;
constexpr double kPlotRight = 700;
constexpr double kPlotTop = 72;
constexpr double kPlotBottom = 396;
constexpr double kLegendLeft = 724;
constexpr double kMinLabelSpacing = 66;  // between x labels
constexpr size_t kMaxTitleChars = 80;
constexpr size_t kMaxSubtitleChars = 110;
constexpr size_t kMaxLegendChars = 20;
constexpr size_t kMaxMarkers = 48;  // line points get a dot up to this many buckets

// Okabe & Ito (2008), "Color Universal Design": distinguishable with every
// common colour-vision deficiency. Yellow is last: it is faint on white.
constexpr std::array<const char*, kMaxNamedSeries> kPalette = {
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"};
constexpr char kOtherColour[] = "#8C8C8C";
constexpr char kFontFamily[] =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Civil {
  int64_t year = 1970;
  unsigned month = 1, day = 1, hour = 0, minute = 0;
};

// Howard Hinnant's days_from_civil inverse: UTC calendar fields.
Civil ToCivil(int64_t micros) {
  const int64_t seconds = FloorDiv(micros, 1000000);
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t second_of_day = seconds - days * 86400;
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  c.hour = static_cast<unsigned>(second_of_day / 3600);
  c.minute = static_cast<unsigned>(second_of_day % 3600 / 60);
  return c;
}

std::string TwoDigits(unsigned v) {
  return std::string{static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
}
std::string MonthDay(const Civil& c) {
  return std::string(kMonths[c.month - 1]) + " " + std::to_string(c.day);
}
std::string HourMinute(const Civil& c) { return TwoDigits(c.hour) + ":" + TwoDigits(c.minute); }

// A coordinate: at most one decimal, no "-0", locale-independent.
std::string Num(double v) {
  if (!std::isfinite(v)) v = 0;
  v = std::round(v * 10) / 10;
  if (v == 0) v = 0;  // -0
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 1);
  std::string s(buf, r.ptr);
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s;
}

double Finite(double v) { return std::isfinite(v) ? v : 0; }

// A value for people: integers as such, others with up to 3 decimals.
std::string ValueText(double v) {
  v = Finite(v);
  char buf[48];
  if (v == std::round(v) && std::fabs(v) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 3);
  std::string s(buf, r.ptr);
  while (s.ends_with('0')) s.pop_back();
  if (s.ends_with('.')) s.pop_back();
  return s;
}

// The decimals that show multiples of `step` exactly (up to 6).
int DecimalsFor(double step) {
  for (int d = 0; d < 6; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 6;
}

// Tick labels: 1500 as "1.5k" once the axis reaches 10,000; "2M"; "3G".
std::vector<std::string> TickLabels(const std::vector<double>& ticks) {
  double max_abs = 0;
  for (double t : ticks) max_abs = std::max(max_abs, std::fabs(t));
  double scale = 1;
  const char* suffix = "";
  if (max_abs >= 1e10) {
    scale = 1e9, suffix = "G";
  } else if (max_abs >= 1e7) {
    scale = 1e6, suffix = "M";
  } else if (max_abs >= 1e4) {
    scale = 1e3, suffix = "k";
  }
  const double step = ticks.size() > 1 ? (ticks[1] - ticks[0]) / scale : 1;
  const int decimals = DecimalsFor(step);
  std::vector<std::string> labels;
  for (double t : ticks) {
    char buf[48];
    double v = t / scale;
    if (std::fabs(v) < step * 1e-9) v = 0;
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
    std::string s(buf, r.ptr);
    if (s.starts_with("-") && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    labels.push_back(v == 0 ? std::string("0") : s + suffix);
  }
  return labels;
}

// At most `n` code points; "…" marks a cut.
std::string Truncate(std::string_view s, size_t n) {
  size_t points = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) continue;
    if (points == n - 1) {
      // Is there more than one code point left?
      size_t rest = 0;
      for (size_t j = i; j < s.size(); ++j)
        rest += (static_cast<unsigned char>(s[j]) & 0xc0) != 0x80;
      if (rest <= 1) return std::string(s);
      return std::string(s.substr(0, i)) + "\xe2\x80\xa6";
    }
    ++points;
  }
  return std::string(s);
}

// ---- The x axis ----

struct XLabel {
  size_t bucket;
  std::string line1, line2;
};

// A bucket's position on the calendar for aligning labels: hours since the
// epoch (multiples of 24 are midnights), days and weeks counted from a
// Monday (1969-12-29), so weekly steps start on Mondays.
int64_t AlignIndex(BucketWidth width, int64_t start, size_t position) {
  switch (width) {
    case BucketWidth::kHour:
      return FloorDiv(start, kMicrosPerHour);
    case BucketWidth::kDay:
      return FloorDiv(start, kMicrosPerDay) + 3;
    case BucketWidth::kWeek:
      return FloorDiv(FloorDiv(start, kMicrosPerDay) + 3, 7);
    case BucketWidth::kUnknown:
      break;
  }
  return static_cast<int64_t>(position);
}

std::vector<int64_t> LabelSteps(BucketWidth width) {
  std::vector<int64_t> steps;
  switch (width) {
    case BucketWidth::kHour:
      steps = {1, 2, 3, 6, 12, 24, 48, 7 * 24, 14 * 24};
      break;
    case BucketWidth::kDay:
      steps = {1, 2, 7, 14, 28};
      break;
    case BucketWidth::kWeek:
      steps = {1, 2, 4, 8, 13, 26, 52};
      break;
    case BucketWidth::kUnknown:
      steps = {1, 2, 5, 10, 20, 50};
      break;
  }
  while (steps.back() < (int64_t{1} << 40)) steps.push_back(steps.back() * 2);
  return steps;
}

std::vector<XLabel> XLabels(const Chart& chart) {
  const std::vector<int64_t>& buckets = chart.buckets;
  if (!chart.categories.empty()) {
    std::vector<XLabel> labels;
    for (size_t i = 0; i < buckets.size() && i < chart.categories.size(); ++i) {
      const std::string& c = chart.categories[i];
      const size_t nl = c.find('\n');
      labels.push_back({i, c.substr(0, nl), nl == std::string::npos ? "" : c.substr(nl + 1)});
    }
    return labels;
  }
  const auto max_labels =
      std::max<size_t>(1, static_cast<size_t>((kPlotRight - kPlotLeft) / kMinLabelSpacing));
  std::vector<size_t> chosen;
  for (int64_t step : LabelSteps(chart.width)) {
    std::vector<size_t> at;
    for (size_t i = 0; i < buckets.size(); ++i) {
      int64_t idx = AlignIndex(chart.width, buckets[i], i);
      if (((idx % step) + step) % step == 0) at.push_back(i);
    }
    if (!at.empty() && at.size() <= max_labels) {
      chosen = std::move(at);
      break;
    }
  }
  if (chosen.empty() && !buckets.empty()) chosen = {0};
  std::vector<XLabel> labels;
  const Civil* previous = nullptr;
  Civil prev;
  for (size_t i : chosen) {
    const Civil c = ToCivil(buckets[i]);
    XLabel l{i};
    const bool new_day =
        previous == nullptr || c.year != prev.year || c.month != prev.month || c.day != prev.day;
    const bool new_year = previous == nullptr || c.year != prev.year;
    switch (chart.width) {
      case BucketWidth::kHour:
        if (c.hour == 0 && c.minute == 0 && previous != nullptr) {
          l.line1 = MonthDay(c);  // midnight: the new day
        } else {
          l.line1 = HourMinute(c);
          if (new_day) l.line2 = MonthDay(c);
        }
        break;
      case BucketWidth::kDay:
      case BucketWidth::kWeek:
        l.line1 = MonthDay(c);
        if (new_year) l.line2 = std::to_string(c.year);
        break;
      case BucketWidth::kUnknown:
        l.line1 = MonthDay(c);
        l.line2 = c.hour != 0 || c.minute != 0 ? HourMinute(c)
                  : new_year                   ? std::to_string(c.year)
                                               : "";
        break;
    }
    labels.push_back(std::move(l));
    prev = c;
    previous = &prev;
  }
  return labels;
}

std::string AxisTitle(BucketWidth width) {
  switch (width) {
    case BucketWidth::kHour:
      return "hour (UTC)";
    case BucketWidth::kDay:
      return "day (UTC)";
    case BucketWidth::kWeek:
      return "week starting Monday (UTC)";
    case BucketWidth::kUnknown:
      break;
  }
  return "time (UTC)";
}

std::string BucketText(const Chart& chart, size_t i) {
  const Civil c = ToCivil(chart.buckets[i]);
  std::string s = MonthDay(c);
  s.append(" ").append(std::to_string(c.year));
  if (chart.width == BucketWidth::kHour || chart.width == BucketWidth::kUnknown) {
    s.append(" ").append(HourMinute(c));
  }
  return s;
}

// ---- The document ----

class Writer {
 public:
  template <typename... Parts>
  void Line(const Parts&... parts) {
    (out_.append(parts), ...);
    out_ += '\n';
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Text(double x, double y, std::string_view cls, std::string_view attrs,
                 std::string_view text) {
  std::string out = "<text class=\"";
  out.append(cls).append("\" x=\"").append(Num(x)).append("\" y=\"").append(Num(y)).append("\"");
  if (!attrs.empty()) out.append(" ").append(attrs);
  out.append(">").append(XmlEscape(text)).append("</text>");
  return out;
}

const char* Colour(const Chart& chart, size_t s) {
  if (chart.series[s].other) return kOtherColour;
  size_t named = 0;
  for (size_t i = 0; i < s; ++i) named += !chart.series[i].other;
  return kPalette[named % kPalette.size()];
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::vector<double> NiceTicks(double lo, double hi, int target, bool integers) {
  if (!std::isfinite(lo)) lo = 0;
  if (!std::isfinite(hi)) hi = 0;
  if (lo > hi) std::swap(lo, hi);
  if (hi == lo) {
    if (hi > 0) {
      lo = 0;
    } else if (hi < 0) {
      hi = 0;
    } else {
      hi = 1;
    }
  }
  target = std::max(target, 1);
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  if (integers) step = std::max(step, 1.0);
  const auto first = static_cast<int64_t>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<int64_t>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (int64_t k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  if (ticks.size() < 2) ticks.push_back(static_cast<double>(last + 1) * step);
  return ticks;
}

TopSeriesResult TopSeries(std::vector<Series> all, size_t max_named, bool sum_rest) {
  std::vector<double> totals;
  for (const Series& s : all) {
    double t = 0;
    for (double v : s.values) t += Finite(v);
    totals.push_back(t);
  }
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return totals[a] > totals[b]; });
  TopSeriesResult result;
  const size_t keep = all.size() <= max_named + 1 ? all.size() : max_named;
  for (size_t i = 0; i < keep; ++i) result.series.push_back(std::move(all[order[i]]));
  result.folded = all.size() - keep;
  if (result.folded == 0 || !sum_rest) return result;
  Series other{"other (" + std::to_string(result.folded) + " keys)", {}, true};
  for (size_t i = keep; i < order.size(); ++i) {
    const Series& s = all[order[i]];
    if (other.values.size() < s.values.size()) other.values.resize(s.values.size(), 0);
    for (size_t b = 0; b < s.values.size(); ++b) other.values[b] += Finite(s.values[b]);
  }
  result.series.push_back(std::move(other));
  return result;
}

std::string RenderSvg(const Chart& chart) {
  const size_t n = chart.buckets.size();
  // Values to draw: one per bucket, finite.
  std::vector<std::vector<double>> values;
  bool integers = true, negative = false;
  for (const Series& s : chart.series) {
    std::vector<double> v(n, 0);
    for (size_t i = 0; i < n && i < s.values.size(); ++i) v[i] = Finite(s.values[i]);
    for (double x : v) {
      integers = integers && x == std::round(x);
      negative = negative || x < 0;
    }
    values.push_back(std::move(v));
  }
  const bool bars = chart.type == ChartType::kBar;
  const bool stacked = bars && chart.stacked && !negative;
  double lo = 0, hi = 0;
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (const auto& v : values) {
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
      sum += v[i];
    }
    if (stacked) hi = std::max(hi, sum);
  }
  const std::vector<double> ticks = NiceTicks(lo, hi, 5, integers);
  const double y_min = ticks.front(), y_max = ticks.back();
  const double plot_h = kPlotBottom - kPlotTop, plot_w = kPlotRight - kPlotLeft;
  auto y_of = [&](double v) {
    const double y = kPlotBottom - (v - y_min) / (y_max - y_min) * plot_h;
    return std::clamp(y, kPlotTop, kPlotBottom);
  };
  const double band = n > 0 ? plot_w / static_cast<double>(n) : plot_w;
  auto x_of = [&](size_t i) { return kPlotLeft + (static_cast<double>(i) + 0.5) * band; };

  Writer w;
  w.Line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
  w.Line("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", std::to_string(kChartWidth),
         "\" height=\"", std::to_string(kChartHeight), "\" viewBox=\"0 0 ",
         std::to_string(kChartWidth), " ", std::to_string(kChartHeight),
         "\" role=\"img\" aria-labelledby=\"chart-title\" font-family=\"", XmlEscape(kFontFamily),
         "\" font-size=\"12\">");
  w.Line("<title id=\"chart-title\">", XmlEscape(chart.title), "</title>");
  if (!chart.subtitle.empty()) w.Line("<desc>", XmlEscape(chart.subtitle), "</desc>");
  w.Line("<rect class=\"background\" x=\"0\" y=\"0\" width=\"", std::to_string(kChartWidth),
         "\" height=\"", std::to_string(kChartHeight), "\" fill=\"#FFFFFF\"/>");
  w.Line(Text(kPlotLeft, 30, "title", "font-size=\"18\" font-weight=\"600\" fill=\"#222222\"",
              Truncate(chart.title, kMaxTitleChars)));
  if (!chart.subtitle.empty()) {
    w.Line(Text(kPlotLeft, 52, "subtitle", "font-size=\"13\" fill=\"#555555\"",
                Truncate(chart.subtitle, kMaxSubtitleChars)));
  }

  // Grid and y axis.
  const std::vector<std::string> tick_labels = TickLabels(ticks);
  w.Line("<g class=\"y-axis\">");
  for (size_t t = 0; t < ticks.size(); ++t) {
    const double y = y_of(ticks[t]);
    const bool zero = ticks[t] == 0;
    w.Line("<line class=\"grid\" x1=\"", Num(kPlotLeft), "\" y1=\"", Num(y), "\" x2=\"",
           Num(kPlotRight), "\" y2=\"", Num(y), "\" stroke=\"", zero ? "#888888" : "#E6E6E6",
           "\" stroke-width=\"1\"/>");
    w.Line(Text(kPlotLeft - 8, y + 4, "ytick", "text-anchor=\"end\" fill=\"#555555\"",
                tick_labels[t]));
  }
  w.Line("</g>");

  // X axis: a tick and a label (two lines at most) at the chosen buckets.
  w.Line("<g class=\"x-axis\">");
  w.Line("<line x1=\"", Num(kPlotLeft), "\" y1=\"", Num(kPlotBottom), "\" x2=\"", Num(kPlotRight),
         "\" y2=\"", Num(kPlotBottom), "\" stroke=\"#888888\" stroke-width=\"1\"/>");
  for (const XLabel& l : XLabels(chart)) {
    const double x = x_of(l.bucket);
    w.Line("<line x1=\"", Num(x), "\" y1=\"", Num(kPlotBottom), "\" x2=\"", Num(x), "\" y2=\"",
           Num(kPlotBottom + 5), "\" stroke=\"#888888\" stroke-width=\"1\"/>");
    w.Line(Text(x, kPlotBottom + 19, "xtick", "text-anchor=\"middle\" fill=\"#555555\"", l.line1));
    if (!l.line2.empty()) {
      w.Line(
          Text(x, kPlotBottom + 34, "xtick2", "text-anchor=\"middle\" fill=\"#888888\"", l.line2));
    }
  }
  w.Line(Text((kPlotLeft + kPlotRight) / 2, kPlotBottom + 56, "axis-title",
              "text-anchor=\"middle\" fill=\"#555555\"",
              chart.categories.empty() ? AxisTitle(chart.width) : chart.x_title));
  w.Line("</g>");

  if (n == 0 || chart.series.empty()) {
    w.Line(Text((kPlotLeft + kPlotRight) / 2, (kPlotTop + kPlotBottom) / 2, "empty",
                "text-anchor=\"middle\" font-size=\"14\" fill=\"#888888\"", "no data"));
  }

  // The series.
  const size_t k = chart.series.size();
  const double group_w =
      stacked ? std::min(band * 0.7, 64.0) : std::min(band * 0.8, 36.0 * static_cast<double>(k));
  const double bar_w = stacked || k == 0 ? group_w : group_w / static_cast<double>(k);
  std::vector<double> stack_top(n, 0);
  for (size_t s = 0; s < k && n > 0; ++s) {
    const Series& series = chart.series[s];
    const std::vector<double>& v = values[s];
    const char* colour = Colour(chart, s);
    w.Line("<g class=\"series\" fill=\"", colour, "\" stroke=\"", colour, "\">");
    w.Line("<title>", XmlEscape(series.name), "</title>");
    if (bars) {
      for (size_t i = 0; i < n; ++i) {
        if (v[i] == 0) continue;
        double x, y0, y1;
        if (stacked) {
          x = x_of(i) - group_w / 2;
          y0 = y_of(stack_top[i]);
          y1 = y_of(stack_top[i] + v[i]);
          stack_top[i] += v[i];
        } else {
          x = x_of(i) - group_w / 2 + static_cast<double>(s) * bar_w;
          y0 = y_of(0);
          y1 = y_of(v[i]);
        }
        const double top = std::min(y0, y1), height = std::fabs(y0 - y1);
        w.Line("<rect class=\"bar\" x=\"", Num(x), "\" y=\"", Num(top), "\" width=\"",
               Num(std::max(bar_w - (k > 1 && !stacked ? 1.0 : 0.0), 1.0)), "\" height=\"",
               Num(std::max(height, 0.5)), "\" stroke=\"#FFFFFF\" stroke-width=\"",
               stacked ? "0.75" : "0", "\"><title>", XmlEscape(series.name), ", ",
               BucketText(chart, i), ": ", ValueText(v[i]), "</title></rect>");
      }
    } else {
      std::string points;
      for (size_t i = 0; i < n; ++i) {
        if (i) points += ' ';
        points += Num(x_of(i)) + "," + Num(y_of(v[i]));
      }
      w.Line("<polyline class=\"line\" points=\"", points,
             "\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" "
             "stroke-linecap=\"round\"",
             series.other ? " stroke-dasharray=\"6 4\"" : "", "/>");
      if (n <= kMaxMarkers) {
        for (size_t i = 0; i < n; ++i) {
          w.Line("<circle class=\"point\" cx=\"", Num(x_of(i)), "\" cy=\"", Num(y_of(v[i])),
                 "\" r=\"", n == 1 ? "4" : "2.5", "\" stroke=\"none\"><title>",
                 XmlEscape(series.name), ", ", BucketText(chart, i), ": ", ValueText(v[i]),
                 "</title></circle>");
        }
      }
    }
    w.Line("</g>");
  }

  // The legend, in the series' order (for stacked bars: top of the stack first).
  w.Line("<g class=\"legend\">");
  double y = kPlotTop + 4;
  if (!chart.legend_title.empty() && k > 0) {
    w.Line(Text(kLegendLeft, y, "legend-title", "font-weight=\"600\" fill=\"#333333\"",
                Truncate(chart.legend_title, kMaxLegendChars + 4)));
    y += 22;
  }
  std::vector<size_t> legend_order(k);
  std::iota(legend_order.begin(), legend_order.end(), 0);
  if (stacked) std::reverse(legend_order.begin(), legend_order.end());
  for (size_t s : legend_order) {
    const char* colour = Colour(chart, s);
    if (bars) {
      w.Line("<rect class=\"swatch\" x=\"", Num(kLegendLeft), "\" y=\"", Num(y - 10),
             "\" width=\"12\" height=\"12\" fill=\"", colour, "\"/>");
    } else {
      w.Line("<line class=\"swatch\" x1=\"", Num(kLegendLeft), "\" y1=\"", Num(y - 4), "\" x2=\"",
             Num(kLegendLeft + 18), "\" y2=\"", Num(y - 4), "\" stroke=\"", colour,
             "\" stroke-width=\"3\"", chart.series[s].other ? " stroke-dasharray=\"6 4\"" : "",
             "/>");
    }
    const std::string name = chart.series[s].name;
    const std::string shown = Truncate(name, kMaxLegendChars);
    std::string text = Text(kLegendLeft + 24, y, "legend-entry", "fill=\"#222222\"", shown);
    if (shown != name) {  // the whole name on hover
      text.insert(text.size() - 7, "<title>" + XmlEscape(name) + "</title>");
    }
    w.Line(text);
    y += 22;
  }
  w.Line("</g>");

  if (!chart.note.empty()) {
    w.Line(Text(kPlotLeft, kChartHeight - 8, "note", "font-size=\"11\" fill=\"#777777\"",
                Truncate(chart.note, kMaxSubtitleChars + 20)));
  }
  w.Line("</svg>");
  return w.Take();
}

}  // namespace vox::svg
