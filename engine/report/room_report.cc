// RoomReport: the room lifecycle and how full rooms got.
#include <algorithm>

#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"

namespace vox {
namespace {

enum : size_t {
  kCreated,
  kStarted,
  kEnded,
  kCancelled,
  kDuration,
  kPeakSum,
  kPeakMax,
  kJoins,
  kCapacityPpm,
  kCells
};

}  // namespace

absl::StatusOr<ReportTable> RoomReport(const ReportSnapshot& snap, const RoomReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kRoomReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("room dimension", static_cast<int>(req.by), 3));
  VOX_ASSIGN_OR_RETURN(RoomKeys rooms, RoomKeys::Make(snap, static_cast<RoomKeys::By>(req.by),
                                                      req.is_public, req.tag));
  SeriesBuilder series(buckets, kCells, rooms.key_space());
  ValueCollector durations;
  uint32_t keys[kMaxTagsPerRoom];

  auto count = [&](RowId room, Timestamp t, size_t cell) {
    if (!rooms.Passes(room)) return;
    const int n = rooms.Keys(room, keys);
    for (int i = 0; i < n; ++i) series.Add(series.SlotAt(t, keys[i]), cell, 1);
  };
  ScanTimeRange(snap, TableId::rooms, rooms::created_at, buckets,
                [&](RowId r, Timestamp t) { count(r, t, kCreated); });
  ScanTimeRange(snap, TableId::rooms, rooms::started_at, buckets,
                [&](RowId r, Timestamp t) { count(r, t, kStarted); });

  const ColumnView<int32_t> duration =
      snap.column<int32_t>(TableId::rooms, rooms::duration_seconds);
  const ColumnView<int32_t> peak = snap.column<int32_t>(TableId::rooms, rooms::peak_participants);
  const ColumnView<int32_t> joins = snap.column<int32_t>(TableId::rooms, rooms::total_joins);
  const ColumnView<int32_t> capacity =
      snap.column<int32_t>(TableId::rooms, rooms::max_participants);
  ScanTimeRange(snap, TableId::rooms, rooms::ended_at, buckets, [&](RowId r, Timestamp t) {
    if (!rooms.Passes(r)) return;
    const int n = rooms.Keys(r, keys);
    for (int i = 0; i < n; ++i) {
      const uint32_t slot = series.SlotAt(t, keys[i]);
      int64_t* c = series.cells(slot);
      ++c[kEnded];
      c[kDuration] += duration[r];
      c[kPeakSum] += peak[r];
      c[kPeakMax] = std::max<int64_t>(c[kPeakMax], peak[r]);
      c[kJoins] += joins[r];
      c[kCapacityPpm] += capacity[r] > 0 ? int64_t{peak[r]} * 1'000'000 / capacity[r] : 0;
      durations.Add(slot, duration[r]);
    }
  });

  // Rooms keep no cancel time: the ROOM_CANCELLED audit row has it.
  const size_t n_rooms = snap.row_count(TableId::rooms);
  const ColumnView<uint8_t> action = snap.column<uint8_t>(TableId::audit_logs, audit_logs::action);
  const ColumnView<uint32_t> room = snap.column<uint32_t>(TableId::audit_logs, audit_logs::room_id);
  const ColumnView<uint8_t> live = snap.live(TableId::audit_logs);
  const ColumnView<int64_t> ts = snap.column<int64_t>(TableId::audit_logs, audit_logs::timestamp);
  const auto cancelled = static_cast<uint8_t>(AuditAction::ROOM_CANCELLED);
  for (size_t k = 0; k < ts.chunk_count(); ++k) {
    const uint8_t* a = action.values(k);
    const int64_t* t = ts.values(k);
    const uint8_t* l = live.values(k);
    for (uint32_t i = 0; i < ts.chunk_rows(k); ++i) {
      if (a[i] != cancelled || t[i] < buckets.from() || t[i] >= buckets.to() || l[i] == 0) continue;
      count(RefAt(room, static_cast<RowId>((k << kChunkShift) + i), n_rooms), t[i], kCancelled);
    }
  }
  durations.Compute(series.slot_count());

  return series.Finish(
      std::string(rooms.dimension()),
      {"created", "started", "ended", "cancelled", "total_duration_seconds", "avg_duration_seconds",
       "p50_duration_seconds", "p90_duration_seconds", "p99_duration_seconds",
       "avg_peak_participants", "max_peak_participants", "total_joins", "avg_capacity_used_pct"},
      [&](uint32_t key) { return rooms.Name(key); },
      [&](uint32_t slot, const int64_t* c, double* out) {
        const ValueCollector::Stats& d = durations.stats(slot);
        out[0] = static_cast<double>(c[kCreated]);
        out[1] = static_cast<double>(c[kStarted]);
        out[2] = static_cast<double>(c[kEnded]);
        out[3] = static_cast<double>(c[kCancelled]);
        out[4] = static_cast<double>(c[kDuration]);
        out[5] = Ratio(c[kDuration], c[kEnded]);
        out[6] = static_cast<double>(d.p[0]);
        out[7] = static_cast<double>(d.p[1]);
        out[8] = static_cast<double>(d.p[2]);
        out[9] = Ratio(c[kPeakSum], c[kEnded]);
        out[10] = static_cast<double>(c[kPeakMax]);
        out[11] = static_cast<double>(c[kJoins]);
        out[12] = Ratio(c[kCapacityPpm], c[kEnded]) / 10'000.0;
      });
}

}  // namespace vox
