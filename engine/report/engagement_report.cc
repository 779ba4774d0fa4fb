// EngagementReport: joins, time in rooms and in-room interactions.
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"

namespace vox {
namespace {

enum : size_t { kJoins, kLeaves, kKicks, kTimeSum, kMutes, kHands, kShares, kCells };

}  // namespace

absl::StatusOr<ReportTable> EngagementReport(const ReportSnapshot& snap,
                                             const EngagementReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kEngagementReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("engagement dimension", static_cast<int>(req.by), 3));
  VOX_ASSIGN_OR_RETURN(RoomKeys rooms, RoomKeys::Make(snap, static_cast<RoomKeys::By>(req.by),
                                                      req.is_public, req.tag));
  constexpr TableId kParts = TableId::room_participants;
  const size_t n_rooms = snap.row_count(TableId::rooms);
  const ColumnView<uint32_t> part_room = snap.column<uint32_t>(kParts, room_participants::room_id);
  const ColumnView<uint32_t> part_user = snap.column<uint32_t>(kParts, room_participants::user_id);
  const ColumnView<int32_t> duration =
      snap.column<int32_t>(kParts, room_participants::duration_seconds);

  SeriesBuilder series(buckets, kCells, rooms.key_space());
  DistinctCounter users;
  ValueCollector time_in_room;
  uint32_t keys[kMaxTagsPerRoom];

  // Calls fn(slot) for each key the room counts under.
  auto each_slot = [&](RowId room, Timestamp t, auto&& fn) {
    if (!rooms.Passes(room)) return;
    const int n = rooms.Keys(room, keys);
    for (int i = 0; i < n; ++i) fn(series.SlotAt(t, keys[i]));
  };
  ScanTimeRange(snap, kParts, room_participants::joined_at, buckets, [&](RowId p, Timestamp t) {
    each_slot(RefAt(part_room, p, n_rooms), t, [&](uint32_t slot) {
      series.Add(slot, kJoins, 1);
      users.Add(slot, part_user[p]);
    });
  });
  ScanTimeRange(snap, kParts, room_participants::left_at, buckets, [&](RowId p, Timestamp t) {
    each_slot(RefAt(part_room, p, n_rooms), t, [&](uint32_t slot) {
      series.Add(slot, kLeaves, 1);
      series.Add(slot, kTimeSum, duration[p]);
      time_in_room.Add(slot, duration[p]);
    });
  });
  ScanTimeRange(snap, kParts, room_participants::kicked_at, buckets, [&](RowId p, Timestamp t) {
    each_slot(RefAt(part_room, p, n_rooms), t, [&](uint32_t slot) { series.Add(slot, kKicks, 1); });
  });

  // In-room interactions from the audit trail.
  std::array<int8_t, 256> cell_of;
  cell_of.fill(-1);
  cell_of[static_cast<size_t>(AuditAction::USER_MUTED)] = kMutes;
  cell_of[static_cast<size_t>(AuditAction::ALL_MUTED)] = kMutes;
  cell_of[static_cast<size_t>(AuditAction::HAND_RAISED)] = kHands;
  cell_of[static_cast<size_t>(AuditAction::SCREEN_SHARE_STARTED)] = kShares;
  const ColumnView<uint8_t> live = snap.live(TableId::audit_logs);
  const ColumnView<uint8_t> action = snap.column<uint8_t>(TableId::audit_logs, audit_logs::action);
  const ColumnView<int64_t> ts = snap.column<int64_t>(TableId::audit_logs, audit_logs::timestamp);
  const ColumnView<uint32_t> room = snap.column<uint32_t>(TableId::audit_logs, audit_logs::room_id);
  const StringView metadata = snap.strings(TableId::audit_logs, audit_logs::metadata);
  const auto all_muted = static_cast<uint8_t>(AuditAction::ALL_MUTED);
  for (size_t k = 0; k < ts.chunk_count(); ++k) {
    const uint8_t* l = live.values(k);
    const uint8_t* a = action.values(k);
    const int64_t* t = ts.values(k);
    for (uint32_t i = 0; i < ts.chunk_rows(k); ++i) {
      const int cell = cell_of[a[i]];
      if (cell < 0 || t[i] < buckets.from() || t[i] >= buckets.to() || l[i] == 0) continue;
      const RowId r = static_cast<RowId>((k << kChunkShift) + i);
      // ALL_MUTED is one row for many mutes: {"muted":N}.
      const int64_t n =
          a[i] == all_muted ? JsonIntField(metadata[r], "muted").value_or(0) : int64_t{1};
      each_slot(RefAt(room, r, n_rooms), t[i],
                [&](uint32_t slot) { series.Add(slot, static_cast<size_t>(cell), n); });
    }
  }
  users.Compute(series.slot_count());
  time_in_room.Compute(series.slot_count());

  return series.Finish(
      std::string(rooms.dimension()),
      {"joins", "unique_users", "leaves", "kicks", "total_time_in_room_seconds",
       "avg_time_in_room_seconds", "p50_time_in_room_seconds", "p90_time_in_room_seconds", "mutes",
       "hand_raises", "screen_shares"},
      [&](uint32_t key) { return rooms.Name(key); },
      [&](uint32_t slot, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[kJoins]);
        out[1] = static_cast<double>(users.count(slot));
        out[2] = static_cast<double>(c[kLeaves]);
        out[3] = static_cast<double>(c[kKicks]);
        out[4] = static_cast<double>(c[kTimeSum]);
        out[5] = Ratio(c[kTimeSum], c[kLeaves]);
        out[6] = static_cast<double>(time_in_room.stats(slot).p[0]);
        out[7] = static_cast<double>(time_in_room.stats(slot).p[1]);
        out[8] = static_cast<double>(c[kMutes]);
        out[9] = static_cast<double>(c[kHands]);
        out[10] = static_cast<double>(c[kShares]);
      });
}

}  // namespace vox
