// ModerationReport: actions taken, revoked and lifted, per type and moderator.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"
#include "schema/str.h"

namespace vox {
namespace {

enum : size_t { kActions, kRevoked, kLifted, kRevocations, kCells };
constexpr size_t kTypes = 6;  // ModerationActionType values
static_assert(static_cast<size_t>(ModerationActionType::PLATFORM_BAN) + 1 == kTypes);

bool IsRoomAction(uint8_t type) {
  const auto t = static_cast<ModerationActionType>(type);
  return t == ModerationActionType::MUTE || t == ModerationActionType::KICK ||
         t == ModerationActionType::ROOM_BAN;
}

uint64_t Pair(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

struct ModeratorStats {
  int64_t actions = 0, revoked = 0, revocations_made = 0;
  std::array<int64_t, kTypes> by_type{};
  int64_t targets = 0;
};

}  // namespace

absl::StatusOr<ModerationReportResult> ModerationReport(const ReportSnapshot& snap,
                                                        const ModerationReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kModerationReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("moderation dimension", static_cast<int>(req.by), 3));
  VOX_RETURN_IF_ERROR(CheckEnum("moderation action type", req.type, EnumId::ModerationActionType));
  VOX_RETURN_IF_ERROR(CheckTopN(req.top_n));
  RowId only_moderator = kNoRow;
  if (req.moderator_id) {
    only_moderator = snap.FindById(TableId::users, *req.moderator_id);
    if (only_moderator == kNoRow) {
      return absl::InvalidArgumentError(StrCat("no user with id ", FormatUuid(*req.moderator_id)));
    }
  }
  constexpr TableId kMods = TableId::moderation_actions;
  const size_t n_users = snap.row_count(TableId::users);
  const ColumnView<uint8_t> type = snap.column<uint8_t>(kMods, moderation_actions::action_type);
  const ColumnView<uint32_t> moderator =
      snap.column<uint32_t>(kMods, moderation_actions::moderator_id);
  const ColumnView<uint32_t> target =
      snap.column<uint32_t>(kMods, moderation_actions::target_user_id);
  const ColumnView<uint32_t> room = snap.column<uint32_t>(kMods, moderation_actions::room_id);
  const ColumnView<int64_t> created = snap.column<int64_t>(kMods, moderation_actions::created_at);
  const ColumnView<int64_t> revoked_at =
      snap.column<int64_t>(kMods, moderation_actions::revoked_at);
  const ColumnView<uint32_t> revoked_by =
      snap.column<uint32_t>(kMods, moderation_actions::revoked_by);
  const ColumnView<int64_t> lifted_at = snap.column<int64_t>(kMods, moderation_actions::lifted_at);
  const StringView username = snap.strings(TableId::users, users::username);

  auto passes = [&](RowId a) {
    return (!req.type || type[a] == static_cast<uint8_t>(*req.type)) &&
           (only_moderator == kNoRow || moderator[a] == only_moderator);
  };
  auto key_of = [&](RowId a) -> uint32_t {
    switch (req.by) {
      case ModerationDimension::kNone:
        return 0;
      case ModerationDimension::kType:
        return type[a];
      case ModerationDimension::kModerator:
        return moderator[a];
    }
    return 0;
  };

  // The actions of the range, and the (room, target) pairs whose join times
  // "target presence" needs.
  std::vector<RowId> in_range;
  absl::flat_hash_map<uint64_t, std::vector<Timestamp>> joins;
  ScanTimeRange(snap, kMods, moderation_actions::created_at, buckets, [&](RowId a, Timestamp) {
    if (!passes(a)) return;
    in_range.push_back(a);
    if (IsRoomAction(type[a]) && !room.IsNull(a)) joins[Pair(room[a], target[a])];
  });
  if (!joins.empty()) {
    constexpr TableId kParts = TableId::room_participants;
    const ColumnView<uint8_t> live = snap.live(kParts);
    const ColumnView<uint32_t> p_room = snap.column<uint32_t>(kParts, room_participants::room_id);
    const ColumnView<uint32_t> p_user = snap.column<uint32_t>(kParts, room_participants::user_id);
    const ColumnView<int64_t> joined = snap.column<int64_t>(kParts, room_participants::joined_at);
    for (size_t k = 0; k < live.chunk_count(); ++k) {
      const uint8_t* l = live.values(k);
      const uint32_t* r = p_room.values(k);
      const uint32_t* u = p_user.values(k);
      const int64_t* j = joined.values(k);
      for (uint32_t i = 0; i < live.chunk_rows(k); ++i) {
        if (l[i] == 0) continue;
        auto it = joins.find(Pair(r[i], u[i]));
        if (it != joins.end()) it->second.push_back(j[i]);
      }
    }
    for (auto& [pair, times] : joins) std::sort(times.begin(), times.end());
  }

  SeriesBuilder series(buckets, kCells,
                       req.by == ModerationDimension::kNone   ? 1
                       : req.by == ModerationDimension::kType ? kTypes
                                                              : n_users);
  DistinctCounter targets;
  ValueCollector to_revoke, presence;
  absl::flat_hash_map<RowId, ModeratorStats> by_moderator;
  std::vector<uint64_t> moderator_targets;
  for (RowId a : in_range) {
    const Timestamp t = created[a];
    const uint32_t slot = series.SlotAt(t, key_of(a));
    int64_t* c = series.cells(slot);
    ++c[kActions];
    targets.Add(slot, target[a]);
    ModeratorStats& m = by_moderator[moderator[a]];
    ++m.actions;
    ++m.by_type[std::min<size_t>(type[a], kTypes - 1)];
    moderator_targets.push_back(Pair(moderator[a], target[a]));
    if (!revoked_at.IsNull(a)) {
      ++c[kRevoked];
      ++m.revoked;
      to_revoke.Add(slot, (revoked_at[a] - t) / kMicrosPerSecond);
    }
    if (!lifted_at.IsNull(a)) ++c[kLifted];
    if (IsRoomAction(type[a]) && !room.IsNull(a)) {
      const std::vector<Timestamp>& times = joins[Pair(room[a], target[a])];
      auto it = std::upper_bound(times.begin(), times.end(), t);
      if (it != times.begin()) presence.Add(slot, (t - *(it - 1)) / kMicrosPerSecond);
    }
  }
  // Revocations, by when they happened.
  ScanTimeRange(snap, kMods, moderation_actions::revoked_at, buckets, [&](RowId a, Timestamp t) {
    if (!passes(a)) return;
    series.Add(series.SlotAt(t, key_of(a)), kRevocations, 1);
  });
  // Revocations each moderator made (the type filter applies to the action).
  ScanTimeRange(snap, kMods, moderation_actions::revoked_at, buckets, [&](RowId a, Timestamp) {
    if (req.type && type[a] != static_cast<uint8_t>(*req.type)) return;
    const RowId by = RefAt(revoked_by, a, n_users);
    if (by == kNoRow || (only_moderator != kNoRow && by != only_moderator)) return;
    ++by_moderator[by].revocations_made;
  });
  targets.Compute(series.slot_count());
  to_revoke.Compute(series.slot_count());
  presence.Compute(series.slot_count());

  std::string dimension = req.by == ModerationDimension::kType        ? "action_type"
                          : req.by == ModerationDimension::kModerator ? "moderator"
                                                                      : "";
  ModerationReportResult result;
  result.actions = series.Finish(
      std::move(dimension),
      {"actions", "revoked", "revoke_rate", "lifted", "distinct_targets", "p50_seconds_to_revoke",
       "p90_seconds_to_revoke", "p50_target_presence_seconds", "p90_target_presence_seconds",
       "revocations"},
      [&](uint32_t key) -> std::string {
        if (req.by == ModerationDimension::kType) {
          return std::string(EnumName(EnumId::ModerationActionType, key));
        }
        return key < n_users ? std::string(username[key]) : std::string(kNoKey);
      },
      [&](uint32_t slot, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[kActions]);
        out[1] = static_cast<double>(c[kRevoked]);
        out[2] = Ratio(c[kRevoked], c[kActions]);
        out[3] = static_cast<double>(c[kLifted]);
        out[4] = static_cast<double>(targets.count(slot));
        out[5] = static_cast<double>(to_revoke.stats(slot).p[0]);
        out[6] = static_cast<double>(to_revoke.stats(slot).p[1]);
        out[7] = static_cast<double>(presence.stats(slot).p[0]);
        out[8] = static_cast<double>(presence.stats(slot).p[1]);
        out[9] = static_cast<double>(c[kRevocations]);
      });

  // Per moderator: distinct targets, then the top N.
  std::sort(moderator_targets.begin(), moderator_targets.end());
  for (size_t i = 0; i < moderator_targets.size(); ++i) {
    if (i == 0 || moderator_targets[i] != moderator_targets[i - 1]) {
      ++by_moderator[static_cast<RowId>(moderator_targets[i] >> 32)].targets;
    }
  }
  struct Ranked {
    RowId user;
    const ModeratorStats* stats;
    std::string_view name;
  };
  std::vector<Ranked> ranked;
  for (const auto& [user, stats] : by_moderator) {
    ranked.push_back({user, &stats, user < n_users ? username[user] : kNoKey});
  }
  const size_t n = std::min(req.top_n, ranked.size());
  std::partial_sort(
      ranked.begin(), ranked.begin() + n, ranked.end(), [](const Ranked& a, const Ranked& b) {
        return a.stats->actions != b.stats->actions ? a.stats->actions > b.stats->actions
                                                    : a.name < b.name;
      });
  ReportTable& top = result.moderators;
  top.dimension = "moderator";
  top.columns = {"actions",     "warnings",         "mutes",           "kicks",
                 "room_bans",   "suspensions",      "platform_bans",   "revoked",
                 "revoke_rate", "distinct_targets", "revocations_made"};
  top.buckets = buckets.starts();
  for (size_t i = 0; i < n; ++i) {
    const ModeratorStats& m = *ranked[i].stats;
    ReportRow row{buckets.start(0), std::string(ranked[i].name), {}};
    row.values.push_back(static_cast<double>(m.actions));
    for (int64_t c : m.by_type) row.values.push_back(static_cast<double>(c));
    row.values.push_back(static_cast<double>(m.revoked));
    row.values.push_back(Ratio(m.revoked, m.actions));
    row.values.push_back(static_cast<double>(m.targets));
    row.values.push_back(static_cast<double>(m.revocations_made));
    top.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace vox
