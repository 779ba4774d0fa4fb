// The hot reads on the wire (engine/ops/queries.h), the hand-raise queue
// and GetRow.
#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "engine/ops/generic.h"
#include "engine/ops/queries.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

constexpr uint32_t kMaxPage = 1000;

// Participants as a ParticipantsResult, in the order given.
Outcome Participants(Call& c, std::span<const ParticipantState> participants) {
  const Table& parts = c.db.table(TableId::room_participants);
  const Table& users = c.db.table(TableId::users);
  std::vector<fb::Offset<wire::Participant>> out;
  out.reserve(participants.size());
  for (const ParticipantState& p : participants) {
    const auto role = c.Name(EnumId::ParticipantRole, p.role);
    wire::ParticipantBuilder b(c.fbb);
    b.add_participant_id(W(parts.id(p.participant)));
    b.add_user_id(W(users.id(p.user)));
    b.add_role(role);
    b.add_muted(p.muted);
    b.add_hand_raised(p.hand_raised);
    b.add_speaking(p.speaking);
    b.add_joined_at(p.joined_at);
    if (p.hand_raised) b.add_hand_raised_at(p.hand_raised_at);  // absent when lowered
    b.add_screen_sharing(p.screen_sharing);
    out.push_back(b.Finish());
  }
  auto vec = c.fbb.CreateVector(out);
  return c.Result(wire::Result::ParticipantsResult, wire::CreateParticipantsResult(c.fbb, vec));
}

// PresentParticipants (all, in join order) and HandRaiseQueue (those with a
// raised hand, earliest raised first; ties in join order).
Outcome DoPresentParticipants(Call& c, const wire::Uuid* room_id, bool raised_hands_only) {
  Args a;
  const Uuid id = a.Id(room_id, "room_id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const RowId room, c.Row(TableId::rooms, id));
  std::vector<ParticipantState> present;
  PresentParticipants(c.db, room, &present);
  if (raised_hands_only) {
    std::erase_if(present, [](const ParticipantState& p) { return !p.hand_raised; });
    std::stable_sort(present.begin(), present.end(),
                     [](const ParticipantState& x, const ParticipantState& y) {
                       return x.hand_raised_at < y.hand_raised_at;
                     });
  }
  return Participants(c, present);
}

Outcome DoUserPresentRooms(Call& c, const wire::UserPresentRooms& op) {
  Args a;
  const Uuid user_id = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const RowId user, c.Row(TableId::users, user_id));
  std::vector<RowId> rows;
  UserPresentRooms(c.db, user, &rows);
  return c.Rows(TableId::room_participants, rows);
}

// RoomAuditTrail and UserAuditTrail: audit rows of an owner (a room, a
// user), newest first, paging after an audit row.
using TrailFn = std::optional<PageCursor> (*)(const Database&, RowId, size_t,
                                              std::optional<PageCursor>, std::vector<RowId>*);
Outcome DoAuditTrail(Call& c, TableId owner_table, const wire::Uuid* owner_id,
                     std::string_view owner_field, uint32_t limit, const wire::Uuid* after_id,
                     TrailFn trail) {
  Args a;
  const Uuid id = a.Id(owner_id, owner_field);
  a.Limit(limit, kMaxPage);
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const RowId owner, c.Row(owner_table, id));
  std::optional<PageCursor> after;
  if (after_id != nullptr) {
    VOX_ASSIGN_OR_RETURN(const RowId row, c.Row(TableId::audit_logs, FromWire(*after_id)));
    after = PageCursor{0, row};
  }
  std::vector<RowId> rows;
  const auto next = trail(c.db, owner, limit, after, &rows);
  std::optional<Uuid> next_id;
  if (next) next_id = c.db.table(TableId::audit_logs).id(next->row);
  return c.Rows(TableId::audit_logs, rows, next_id);
}

Outcome DoRoomStatistics(Call& c, const wire::RoomStatistics& op) {
  Args a;
  const Uuid room_id = a.Id(op.room_id(), "room_id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const RowId room, c.Row(TableId::rooms, room_id));
  const RoomStats s = RoomStatistics(c.db, room);
  return c.Result(
      wire::Result::RoomStatsResult,
      wire::CreateRoomStatsResult(c.fbb, s.participations, s.present, s.total_duration_seconds,
                                  s.average_duration_seconds));
}

Outcome DoLiveRoomsByTag(Call& c, const wire::LiveRoomsByTag& op) {
  Args a;
  a.Limit(op.limit(), kMaxPage);
  VOX_RETURN_IF_ERROR(a.status());
  std::optional<PageCursor> after;
  if (op.after() != nullptr) {
    VOX_ASSIGN_OR_RETURN(const RowId room, c.Row(TableId::rooms, FromWire(*op.after())));
    after = PageCursor{c.db.table(TableId::rooms).GetTime(room, rooms::started_at), room};
  }
  std::vector<RowId> rows;
  const auto next = LiveRoomsByTag(c.db, View(op.tag()), op.limit(), after, &rows);
  std::optional<Uuid> next_id;
  if (next) next_id = c.db.table(TableId::rooms).id(next->row);
  return c.Rows(TableId::rooms, rows, next_id);
}

// A row found by a unique name (UserByEmail, UserByUsername, FindTag).
Outcome ByName(Call& c, TableId table, RowId row, std::string_view missing) {
  if (row == kNoRow) return absl::NotFoundError(std::string(missing));
  const RowId rows[] = {row};
  return c.Rows(table, rows);
}

Outcome DoIsBanned(Call& c, const wire::IsBanned& op) {
  Args a;
  const Uuid room_id = a.Id(op.room_id(), "room_id");
  const Uuid user_id = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const RowId room, c.Row(TableId::rooms, room_id));
  VOX_ASSIGN_OR_RETURN(const RowId user, c.Row(TableId::users, user_id));
  return c.Bool(IsBanned(c.db, room, user));
}

Outcome DoGetRow(Call& c, const wire::GetRow& op) {
  // The live schema: tables added by migrations are found too.
  auto table = c.db.FindTable(View(op.table()));
  if (!table.ok()) return absl::InvalidArgumentError(table.status().message());
  Args a;
  const Uuid id = a.Id(op.id(), "id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const RowId row, c.Row(*table, id));
  const RowId rows[] = {row};
  return c.Rows(*table, rows);
}

}  // namespace

std::optional<Outcome> ExecuteReads(Call& c, Op type, const void* raw) {
  switch (type) {
    case Op::UserByEmail:
      return ByName(c, TableId::users,
                    FindUserByEmail(c.db, View(As<wire::UserByEmail>(raw)->email())),
                    "no user has that email");
    case Op::UserByUsername:
      return ByName(c, TableId::users,
                    FindUserByUsername(c.db, View(As<wire::UserByUsername>(raw)->username())),
                    "no user has that username");
    case Op::FindTag:
      return ByName(c, TableId::tags, FindTag(c.db, View(As<wire::FindTag>(raw)->name())),
                    "no tag has that name");
    case Op::PresentParticipants:
      return DoPresentParticipants(c, As<wire::PresentParticipants>(raw)->room_id(), false);
    case Op::HandRaiseQueue:
      return DoPresentParticipants(c, As<wire::HandRaiseQueue>(raw)->room_id(), true);
    case Op::UserPresentRooms:
      return DoUserPresentRooms(c, *As<wire::UserPresentRooms>(raw));
    case Op::RoomAuditTrail: {
      const auto* op = As<wire::RoomAuditTrail>(raw);
      return DoAuditTrail(c, TableId::rooms, op->room_id(), "room_id", op->limit(), op->after(),
                          &RoomAuditTrail);
    }
    case Op::UserAuditTrail: {
      const auto* op = As<wire::UserAuditTrail>(raw);
      return DoAuditTrail(c, TableId::users, op->user_id(), "user_id", op->limit(), op->after(),
                          &UserAuditTrail);
    }
    case Op::RoomStatistics:
      return DoRoomStatistics(c, *As<wire::RoomStatistics>(raw));
    case Op::LiveRoomsByTag:
      return DoLiveRoomsByTag(c, *As<wire::LiveRoomsByTag>(raw));
    case Op::IsBanned:
      return DoIsBanned(c, *As<wire::IsBanned>(raw));
    case Op::GetRow:
      return DoGetRow(c, *As<wire::GetRow>(raw));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
