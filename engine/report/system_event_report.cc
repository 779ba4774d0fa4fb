// SystemEventReport: events by severity and component, and error bursts.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr size_t kSeverities = 5;  // Severity values
static_assert(static_cast<size_t>(Severity::CRITICAL) + 1 == kSeverities);
enum : size_t { kEvents, kBySeverity, kCells = kBySeverity + kSeverities };

bool IsError(uint8_t severity) { return severity >= static_cast<uint8_t>(Severity::ERROR); }

// Interns strings met in a scan as dense ids.
class Interner {
 public:
  uint32_t Id(std::string_view s) {
    auto [it, inserted] = ids_.try_emplace(s, static_cast<uint32_t>(names_.size()));
    if (inserted) names_.push_back(s);
    return it->second;
  }
  std::string_view Name(uint32_t id) const { return names_[id]; }

 private:
  absl::flat_hash_map<std::string_view, uint32_t> ids_;
  std::vector<std::string_view> names_;
};

struct Burst {
  int64_t errors = 0, critical = 0;
  Timestamp first = INT64_MAX, last = INT64_MIN;
};

}  // namespace

absl::StatusOr<SystemEventReportResult> SystemEventReport(const ReportSnapshot& snap,
                                                          const SystemEventReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kSystemEventReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("system event dimension", static_cast<int>(req.by), 3));
  VOX_RETURN_IF_ERROR(CheckEnum("severity", req.min_severity, EnumId::Severity));
  if (req.burst_threshold < 0) {
    return absl::InvalidArgumentError(
        StrCat("burst_threshold must be >= 0; got ", req.burst_threshold));
  }
  constexpr TableId kE = TableId::system_events;
  const ColumnView<uint8_t> severity = snap.column<uint8_t>(kE, system_events::severity);
  const StringView component = snap.strings(kE, system_events::component);
  const StringView code = snap.strings(kE, system_events::code);
  const uint8_t min_severity = req.min_severity ? static_cast<uint8_t>(*req.min_severity) : 0;

  Interner components, codes;
  SeriesBuilder series(buckets, kCells,
                       req.by == SystemEventDimension::kNone       ? 1
                       : req.by == SystemEventDimension::kSeverity ? kSeverities
                                                                   : 0);  // components: unbounded
  DistinctCounter distinct_codes;
  std::vector<Burst> bursts(buckets.count());
  absl::flat_hash_map<uint64_t, int64_t> errors_by_component;  // bucket << 32 | component
  ScanTimeRange(snap, kE, system_events::occurred_at, buckets, [&](RowId e, Timestamp t) {
    const uint8_t sev = std::min<uint8_t>(severity[e], kSeverities - 1);
    if (sev < min_severity) return;
    const std::string_view comp = component[e];
    if (req.component && comp != *req.component) return;
    const uint32_t comp_id = components.Id(comp);
    const uint32_t key = req.by == SystemEventDimension::kSeverity    ? sev
                         : req.by == SystemEventDimension::kComponent ? comp_id
                                                                      : 0;
    const uint32_t slot = series.SlotAt(t, key);
    int64_t* c = series.cells(slot);
    ++c[kEvents];
    ++c[kBySeverity + sev];
    distinct_codes.Add(slot, codes.Id(code[e]));
    if (IsError(sev)) {
      const uint32_t b = buckets.IndexOf(t);
      Burst& burst = bursts[b];
      ++burst.errors;
      burst.critical += sev == static_cast<uint8_t>(Severity::CRITICAL);
      burst.first = std::min(burst.first, t);
      burst.last = std::max(burst.last, t);
      ++errors_by_component[(uint64_t{b} << 32) | comp_id];
    }
  });
  distinct_codes.Compute(series.slot_count());

  SystemEventReportResult result;
  std::string dimension = req.by == SystemEventDimension::kSeverity    ? "severity"
                          : req.by == SystemEventDimension::kComponent ? "component"
                                                                       : "";
  result.events = series.Finish(
      std::move(dimension),
      {"events", "debug", "info", "warning", "error", "critical", "errors", "distinct_codes"},
      [&](uint32_t key) {
        return req.by == SystemEventDimension::kSeverity
                   ? std::string(EnumName(EnumId::Severity, key))
                   : std::string(components.Name(key));
      },
      [&](uint32_t slot, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[kEvents]);
        for (size_t s = 0; s < kSeverities; ++s)
          out[1 + s] = static_cast<double>(c[kBySeverity + s]);
        out[6] = static_cast<double>(c[kBySeverity + static_cast<size_t>(Severity::ERROR)] +
                                     c[kBySeverity + static_cast<size_t>(Severity::CRITICAL)]);
        out[7] = static_cast<double>(distinct_codes.count(slot));
      });

  // Bursts: per bucket over the threshold, the component with most errors.
  struct Top {
    int64_t components = 0, errors = 0;
    std::string_view name;
  };
  std::vector<Top> top(buckets.count());
  for (const auto& [key, n] : errors_by_component) {
    Top& t = top[key >> 32];
    const std::string_view name = components.Name(static_cast<uint32_t>(key));
    ++t.components;
    if (n > t.errors || (n == t.errors && name < t.name)) {
      t.errors = n;
      t.name = name;
    }
  }
  ReportTable& out = result.bursts;
  out.dimension = "component";
  out.columns = {"errors",         "critical",     "components", "top_component_errors",
                 "first_error_at", "last_error_at"};
  out.buckets = buckets.starts();
  for (size_t b = 0; b < buckets.count(); ++b) {
    const Burst& burst = bursts[b];
    if (burst.errors <= req.burst_threshold) continue;
    out.rows.push_back({buckets.start(b),
                        std::string(top[b].name),
                        {static_cast<double>(burst.errors), static_cast<double>(burst.critical),
                         static_cast<double>(top[b].components), static_cast<double>(top[b].errors),
                         static_cast<double>(burst.first), static_cast<double>(burst.last)}});
  }
  return result;
}

}  // namespace vox
