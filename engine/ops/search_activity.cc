// Searches over room activity: participations and call sessions.
#include "engine/internal/search_util.h"
#include "engine/ops/search.h"

namespace vox {
namespace {

using internal::Bit;
using internal::IndexRun;
using internal::PageBuilder;
using internal::Paging;
using internal::SearchKind;
using internal::SortKey;

constexpr size_t kParticipantsByRoom = IndexNo("participants_by_room");
constexpr size_t kPresentByUser = IndexNo("participants_present_by_user");
constexpr size_t kSessionsByParticipant = IndexNo("call_sessions_by_participant");
constexpr size_t kSessionsOpen = IndexNo("call_sessions_open");

// ---- Participants -----------------------------------------------------------------

class ParticipantQuery {
 public:
  ParticipantQuery(const Database& db, const ParticipantSearch& req, uint64_t roles)
      : t_(db.table(TableId::room_participants)), req_(req), roles_(roles) {}

  void Filter(std::vector<RowId>& rows) const {
    namespace p = room_participants;
    internal::KeepRef(t_.column(p::room_id), rows, req_.room);
    internal::KeepRef(t_.column(p::user_id), rows, req_.user);
    if (req_.present) internal::KeepNull(t_.column(p::left_at), rows, *req_.present);
    internal::KeepEnums(t_.column(p::role), rows, roles_);
    internal::KeepTimes(t_.column(p::joined_at), rows, req_.joined);
    internal::KeepTimes(t_.column(p::left_at), rows, req_.left);
    internal::KeepInts(t_.column(p::duration_seconds), rows, req_.duration_seconds);
    internal::KeepInts(t_.column(p::mute_count), rows, req_.mute_count);
    internal::KeepInts(t_.column(p::hand_raise_count), rows, req_.hand_raise_count);
    internal::KeepBool(t_.column(p::is_kicked), rows, req_.kicked);
    internal::KeepBool(t_.column(p::is_banned), rows, req_.banned);
  }

  SortKey KeyOf(RowId r) const {
    switch (req_.sort) {
      case ParticipantSort::kJoinedDesc:
      case ParticipantSort::kJoinedAsc:
        return {t_.GetTime(r, room_participants::joined_at), 0, {}, r};
      case ParticipantSort::kLeftDesc:
        // Null (present) as INT64_MIN: last, as kNullKey sorts in the index.
        return {internal::SortValue(t_, r, room_participants::left_at, true), 0, {}, r};
      case ParticipantSort::kDurationDesc:
        return {t_.GetInt(r, room_participants::duration_seconds), 0, {}, r};
    }
    return {0, 0, {}, r};
  }

 private:
  const Table& t_;
  const ParticipantSearch& req_;
  uint64_t roles_;
};

// ---- Call sessions ----------------------------------------------------------------

struct SessionMasks {
  uint64_t statuses, reasons, transports;
};

class SessionQuery {
 public:
  SessionQuery(const Database& db, const CallSessionSearch& req, SessionMasks masks)
      : t_(db.table(TableId::call_sessions)), req_(req), masks_(masks) {}

  void Filter(std::vector<RowId>& rows) const {
    namespace c = call_sessions;
    internal::KeepRef(t_.column(c::participant_id), rows, req_.participant);
    internal::KeepRef(t_.column(c::room_id), rows, req_.room);
    internal::KeepRef(t_.column(c::user_id), rows, req_.user);
    internal::KeepEnums(t_.column(c::status), rows, masks_.statuses);
    internal::KeepEnums(t_.column(c::failure_reason), rows, masks_.reasons);
    internal::KeepEnums(t_.column(c::transport), rows, masks_.transports);
    internal::KeepTimes(t_.column(c::started_at), rows, req_.started);
    internal::KeepInts(t_.column(c::packet_loss_bp), rows, req_.packet_loss_bp);
    internal::KeepInts(t_.column(c::rtt_ms), rows, req_.rtt_ms);
    internal::KeepInts(t_.column(c::jitter_ms), rows, req_.jitter_ms);
    internal::KeepInts(t_.column(c::bitrate_kbps), rows, req_.bitrate_kbps);
    if (!req_.region.empty()) internal::KeepString(t_.column(c::region), rows, req_.region);
  }

  SortKey KeyOf(RowId r) const {
    switch (req_.sort) {
      case CallSessionSort::kStartedDesc:
      case CallSessionSort::kStartedAsc:
        return {t_.GetTime(r, call_sessions::started_at), 0, {}, r};
      case CallSessionSort::kPacketLossDesc:
        return {internal::SortValue(t_, r, call_sessions::packet_loss_bp, true), 0, {}, r};
      case CallSessionSort::kRttDesc:
        return {internal::SortValue(t_, r, call_sessions::rtt_ms, true), 0, {}, r};
    }
    return {0, 0, {}, r};
  }

 private:
  const Table& t_;
  const CallSessionSearch& req_;
  SessionMasks masks_;
};

}  // namespace

absl::StatusOr<SearchPage> SearchParticipants(const Database& db, const ParticipantSearch& req) {
  if (req.sort > ParticipantSort::kDurationDesc) {
    return absl::InvalidArgumentError("unknown participant sort");
  }
  VOX_ASSIGN_OR_RETURN(const uint64_t roles,
                       internal::EnumMask(EnumId::ParticipantRole, req.roles, "roles"));
  const bool desc = req.sort != ParticipantSort::kJoinedAsc;
  Paging paging;
  VOX_RETURN_IF_ERROR(paging.Init(SearchKind::kParticipants, static_cast<uint8_t>(req.sort), desc,
                                  req.limit, req.after));
  const ParticipantQuery q(db, req, roles);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "room_participants";
  const Table& t = db.table(TableId::room_participants);
  if (req.room) {
    // participants_by_room: the room's group by (left_at, nulls first; row).
    const GroupedTableIndex& ix = db.grouped(kParticipantsByRoom);
    std::span<const GroupEntry> group = ix.Group(*req.room);
    if (req.present == true) {  // the front: left_at null
      group = group.first(std::partition_point(group.begin(), group.end(),
                                               [&](const GroupEntry& e) {
                                                 return t.IsNull(e.row, room_participants::left_at);
                                               }) -
                          group.begin());
    }
    if (req.sort == ParticipantSort::kLeftDesc) {
      std::vector<IndexRun> runs{IndexRun::Group(group, /*reverse=*/true)};
      paging.BoundLeading(req.left);
      if (const auto start = paging.StartKey()) {
        runs[0].SeekGroup(*start, desc, [&](RowId r) { return q.KeyOf(r); });
      }
      const size_t n = internal::WalkInOrder(runs, q, paging, page);
      return page.Finish(
          internal::MakePlan(kTable, SearchPlan::Access::kIndexOrder, "participants_by_room", n));
    }
    std::vector<RowId> rows;
    rows.reserve(group.size());
    for (const GroupEntry& e : group) rows.push_back(e.row);
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(
        internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, "participants_by_room", n));
  }
  if (req.user && req.present == true) {
    std::vector<RowId> rows;
    for (const GroupEntry& e : db.grouped(kPresentByUser).Group(*req.user)) rows.push_back(e.row);
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexRows,
                                          "participants_present_by_user", n));
  }
  const size_t n = internal::ScanTable(t, q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

absl::StatusOr<SearchPage> SearchCallSessions(const Database& db, const CallSessionSearch& req) {
  if (req.sort > CallSessionSort::kRttDesc) {
    return absl::InvalidArgumentError("unknown call session sort");
  }
  SessionMasks masks;
  VOX_ASSIGN_OR_RETURN(masks.statuses,
                       internal::EnumMask(EnumId::CallSessionStatus, req.statuses, "statuses"));
  VOX_ASSIGN_OR_RETURN(masks.reasons, internal::EnumMask(EnumId::CallFailureReason,
                                                         req.failure_reasons, "failure_reasons"));
  VOX_ASSIGN_OR_RETURN(masks.transports,
                       internal::EnumMask(EnumId::CallTransport, req.transports, "transports"));
  const bool desc = req.sort != CallSessionSort::kStartedAsc;
  Paging paging;
  VOX_RETURN_IF_ERROR(paging.Init(SearchKind::kCallSessions, static_cast<uint8_t>(req.sort), desc,
                                  req.limit, req.after));
  const SessionQuery q(db, req, masks);
  PageBuilder page(paging);
  constexpr std::string_view kTable = "call_sessions";
  const GroupedTableIndex& by_participant = db.grouped(kSessionsByParticipant);
  std::vector<RowId> rows;
  if (req.participant) {
    for (const GroupEntry& e : by_participant.Group(*req.participant)) rows.push_back(e.row);
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexRows,
                                          "call_sessions_by_participant", n));
  }
  if (req.room) {
    // Open sessions (ended_at null) are exactly the CONNECTING and CONNECTED ones.
    const uint64_t open = Bit(CallSessionStatus::CONNECTING) | Bit(CallSessionStatus::CONNECTED);
    if (internal::MaskWithin(masks.statuses, open)) {
      for (const GroupEntry& e : db.grouped(kSessionsOpen).Group(*req.room)) rows.push_back(e.row);
      const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
      return page.Finish(
          internal::MakePlan(kTable, SearchPlan::Access::kIndexRows, "call_sessions_open", n));
    }
    // A session's room is its participation's: the room's participations
    // (of the user, if given), then their sessions.
    const Table& parts = db.table(TableId::room_participants);
    size_t participations = 0;
    for (const GroupEntry& p : db.grouped(kParticipantsByRoom).Group(*req.room)) {
      ++participations;
      if (req.user && parts.GetRef(p.row, room_participants::user_id) != *req.user) continue;
      for (const GroupEntry& e : by_participant.Group(p.row)) rows.push_back(e.row);
    }
    const size_t n = internal::FilterCandidates(std::move(rows), q, paging, page);
    return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kIndexRows,
                                          "participants_by_room+call_sessions_by_participant",
                                          participations + n));
  }
  const size_t n = internal::ScanTable(db.table(TableId::call_sessions), q, paging, page);
  return page.Finish(internal::MakePlan(kTable, SearchPlan::Access::kScan, "", n));
}

}  // namespace vox
