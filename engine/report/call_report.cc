// CallReport: call session outcomes, connect times, telemetry, failure reasons.
#include "absl/container/flat_hash_map.h"
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"

namespace vox {
namespace {

static_assert(static_cast<size_t>(CallTransport::TURN_TLS) + 1 == 5);
static_assert(static_cast<size_t>(CallFailureReason::UNKNOWN) + 1 == 8);
enum : size_t {
  kAttempts,
  kConnected,
  kFailed,
  kDropped,
  kEnded,
  kOpen,
  kBitrateSum,
  kBitrateN,
  kCells
};

}  // namespace

absl::StatusOr<CallReportResult> CallReport(const ReportSnapshot& snap,
                                            const CallReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kCallReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("call dimension", static_cast<int>(req.by), 4));
  VOX_RETURN_IF_ERROR(CheckEnum("transport", req.transport, EnumId::CallTransport));
  constexpr TableId kSessions = TableId::call_sessions;

  const ColumnView<uint8_t> status = snap.column<uint8_t>(kSessions, call_sessions::status);
  const ColumnView<int64_t> connected_at =
      snap.column<int64_t>(kSessions, call_sessions::connected_at);
  const ColumnView<uint8_t> reason = snap.column<uint8_t>(kSessions, call_sessions::failure_reason);
  const ColumnView<uint8_t> transport = snap.column<uint8_t>(kSessions, call_sessions::transport);
  const StringView region = snap.strings(kSessions, call_sessions::region);
  const ColumnView<uint32_t> room = snap.column<uint32_t>(kSessions, call_sessions::room_id);
  const ColumnView<uint8_t> is_public = snap.column<uint8_t>(TableId::rooms, rooms::is_public);
  const size_t n_rooms = snap.row_count(TableId::rooms);
  struct Metric {
    ColumnView<int32_t> column;
    ValueCollector values;
  };
  Metric rtt{snap.column<int32_t>(kSessions, call_sessions::rtt_ms), {}};
  Metric jitter{snap.column<int32_t>(kSessions, call_sessions::jitter_ms), {}};
  Metric loss{snap.column<int32_t>(kSessions, call_sessions::packet_loss_bp), {}};
  const ColumnView<int32_t> bitrate = snap.column<int32_t>(kSessions, call_sessions::bitrate_kbps);
  ValueCollector connect_ms;

  // Regions are strings: interned to dense ids as they are met.
  absl::flat_hash_map<std::string_view, uint32_t> region_ids;
  std::vector<std::string_view> region_names;
  auto region_id = [&](RowId s) -> uint32_t {
    if (region.refs().IsNull(s)) return kNoKeyId;
    auto [it, inserted] =
        region_ids.try_emplace(region[s], static_cast<uint32_t>(region_names.size()));
    if (inserted) region_names.push_back(region[s]);
    return it->second;
  };

  const size_t key_space = req.by == CallDimension::kNone        ? 1
                           : req.by == CallDimension::kTransport ? 5
                           : req.by == CallDimension::kRoomType  ? 2
                                                                 : 0;  // regions: unbounded
  SeriesBuilder series(buckets, kCells, key_space);
  SeriesBuilder reasons(buckets, 2, 8);
  std::vector<int64_t> failures_in_bucket(buckets.count(), 0);
  ScanTimeRange(snap, kSessions, call_sessions::started_at, buckets, [&](RowId s, Timestamp t) {
    if (req.transport &&
        (transport.IsNull(s) || transport[s] != static_cast<uint8_t>(*req.transport)))
      return;
    if (req.region && (region.refs().IsNull(s) || region[s] != *req.region)) return;
    uint32_t key = 0;
    switch (req.by) {
      case CallDimension::kNone:
        break;
      case CallDimension::kTransport:
        key = transport.IsNull(s) ? kNoKeyId : transport[s];
        break;
      case CallDimension::kRegion:
        key = region_id(s);
        break;
      case CallDimension::kRoomType: {
        const RowId r = RefAt(room, s, n_rooms);
        key = r == kNoRow ? kNoKeyId : uint32_t{is_public[r] != 0};
        break;
      }
    }
    const uint32_t slot = series.SlotAt(t, key);
    int64_t* c = series.cells(slot);
    ++c[kAttempts];
    const auto st = static_cast<CallSessionStatus>(status[s]);
    if (!connected_at.IsNull(s)) {
      ++c[kConnected];
      connect_ms.Add(slot, (connected_at[s] - t) / 1000);
    }
    switch (st) {
      case CallSessionStatus::FAILED:
        ++c[kFailed];
        break;
      case CallSessionStatus::DROPPED:
        ++c[kDropped];
        break;
      case CallSessionStatus::ENDED:
        ++c[kEnded];
        break;
      case CallSessionStatus::CONNECTING:
      case CallSessionStatus::CONNECTED:
        ++c[kOpen];
        break;
    }
    for (Metric* m : {&rtt, &jitter, &loss}) {
      if (!m->column.IsNull(s)) m->values.Add(slot, m->column[s]);
    }
    if (!bitrate.IsNull(s)) {
      c[kBitrateSum] += bitrate[s];
      ++c[kBitrateN];
    }
    if (st == CallSessionStatus::FAILED || st == CallSessionStatus::DROPPED) {
      const uint32_t r = reason.IsNull(s) ? kNoKeyId : reason[s];
      reasons.Add(reasons.SlotAt(t, r), st == CallSessionStatus::FAILED ? 0 : 1, 1);
      ++failures_in_bucket[buckets.IndexOf(t)];
    }
  });
  for (Metric* m : {&rtt, &jitter, &loss}) m->values.Compute(series.slot_count());
  connect_ms.Compute(series.slot_count());

  std::string dimension;
  switch (req.by) {
    case CallDimension::kNone:
      break;
    case CallDimension::kTransport:
      dimension = "transport";
      break;
    case CallDimension::kRegion:
      dimension = "region";
      break;
    case CallDimension::kRoomType:
      dimension = "room_type";
      break;
  }
  auto key_name = [&](uint32_t key) -> std::string {
    switch (req.by) {
      case CallDimension::kTransport:
        return std::string(EnumName(EnumId::CallTransport, key));
      case CallDimension::kRegion:
        return std::string(region_names[key]);
      case CallDimension::kRoomType:
        return key != 0 ? "PUBLIC" : "PRIVATE";
      case CallDimension::kNone:
        break;
    }
    return "";
  };
  CallReportResult result;
  result.sessions = series.Finish(
      std::move(dimension),
      {"attempts",
       "connected",
       "failed",
       "dropped",
       "ended",
       "open",
       "success_rate",
       "failure_rate",
       "drop_rate",
       "p50_connect_ms",
       "p90_connect_ms",
       "p99_connect_ms",
       "p50_rtt_ms",
       "p90_rtt_ms",
       "p99_rtt_ms",
       "p50_jitter_ms",
       "p90_jitter_ms",
       "p99_jitter_ms",
       "p50_packet_loss_bp",
       "p90_packet_loss_bp",
       "p99_packet_loss_bp",
       "avg_bitrate_kbps"},
      key_name, [&](uint32_t slot, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[kAttempts]);
        out[1] = static_cast<double>(c[kConnected]);
        out[2] = static_cast<double>(c[kFailed]);
        out[3] = static_cast<double>(c[kDropped]);
        out[4] = static_cast<double>(c[kEnded]);
        out[5] = static_cast<double>(c[kOpen]);
        out[6] = Ratio(c[kConnected], c[kAttempts]);
        out[7] = Ratio(c[kFailed], c[kAttempts]);
        out[8] = Ratio(c[kDropped], c[kConnected]);
        int i = 9;
        for (const ValueCollector* v : {&connect_ms, &rtt.values, &jitter.values, &loss.values}) {
          for (int64_t p : v->stats(slot).p) out[i++] = static_cast<double>(p);
        }
        out[21] = Ratio(c[kBitrateSum], c[kBitrateN]);
      });
  result.failure_reasons = reasons.Finish(
      "failure_reason", {"failed", "dropped", "share"},
      [](uint32_t key) { return std::string(EnumName(EnumId::CallFailureReason, key)); },
      [&](uint32_t slot, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[0]);
        out[1] = static_cast<double>(c[1]);
        out[2] = Ratio(c[0] + c[1], failures_in_bucket[reasons.bucket_of(slot)]);
      });
  return result;
}

}  // namespace vox
