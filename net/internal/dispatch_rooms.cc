// Room, participant and moderation operations on the wire
// (engine/ops/rooms.h, engine/ops/moderation.h).
#include <vector>

#include "engine/ops/moderation.h"
#include "engine/ops/rooms.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

// RoomSettings read from the wire; `settings.tags` points into `tags`, so
// the object is neither copied nor moved.
struct SettingsArg {
  RoomSettings settings;
  std::vector<std::string_view> tags;

  SettingsArg() = default;
  SettingsArg(const SettingsArg&) = delete;
  SettingsArg& operator=(const SettingsArg&) = delete;

  void SetTags(const fb::Vector<fb::Offset<fb::String>>& names) {
    tags.clear();
    for (const auto* t : names) tags.push_back(View(t));
    settings.tags = std::span<const std::string_view>(tags);
  }
  // Overlays the fields present in `s`.
  void Read(const wire::RoomSettings* s) {
    if (s == nullptr) return;
    RoomSettings& r = settings;
    if (s->title() != nullptr) r.title = View(s->title());
    if (s->description() != nullptr) r.description = View(s->description());
    if (s->language() != nullptr) r.language = View(s->language());
    if (s->scheduled_start()) r.scheduled_start = s->scheduled_start();
    if (s->scheduled_end()) r.scheduled_end = s->scheduled_end();
    if (s->max_participants()) r.max_participants = s->max_participants();
    if (s->is_public()) r.is_public = s->is_public();
    if (s->is_recordable()) r.is_recordable = s->is_recordable();
    if (s->require_auth()) r.require_auth = s->require_auth();
    if (s->invite_only()) r.invite_only = s->invite_only();
    if (s->mute_on_join()) r.mute_on_join = s->mute_on_join();
    if (s->hand_raise_allowed()) r.hand_raise_allowed = s->hand_raise_allowed();
    if (s->tags() != nullptr) SetTags(*s->tags());
    if (s->category_id() != nullptr) r.category_id = FromWire(*s->category_id());
  }
};

Outcome CreateResult(Call& c, const absl::StatusOr<CreateRoomResult>& r, bool opened) {
  if (!r.ok()) return r.status();
  auto code = c.Str(r->room_code);
  return c.Result(wire::Result::CreateRoomResult,
                  wire::CreateCreateRoomResult(
                      c.fbb, W(r->room_id), code,
                      W(opened ? std::optional<Uuid>(r->host_participant_id) : std::nullopt)));
}

Outcome DoCreateAndOpenRoom(Call& c, const wire::CreateAndOpenRoom& op) {
  Args a;
  const Uuid owner = a.Id(op.owner_id(), "owner_id");
  VOX_RETURN_IF_ERROR(a.status());
  SettingsArg s;  // the first fields, then `settings` over them
  s.settings.is_public = op.is_public();
  if (op.max_participants() != 0) s.settings.max_participants = op.max_participants();
  if (op.tags() != nullptr && op.tags()->size() > 0) s.SetTags(*op.tags());
  s.Read(op.settings());
  return CreateResult(c,
                      CreateAndOpenRoom(c.db, c.ctx,
                                        {.owner_id = owner,
                                         .room_code = View(op.room_code()),
                                         .title = View(op.title()),
                                         .settings = s.settings}),
                      /*opened=*/true);
}

Outcome DoCreateRoom(Call& c, const wire::CreateRoom& op) {
  Args a;
  const Uuid owner = a.Id(op.owner_id(), "owner_id");
  VOX_RETURN_IF_ERROR(a.status());
  SettingsArg s;
  s.Read(op.settings());
  return CreateResult(c,
                      CreateRoom(c.db, c.ctx,
                                 {.owner_id = owner,
                                  .room_code = View(op.room_code()),
                                  .title = View(op.title()),
                                  .settings = s.settings}),
                      /*opened=*/false);
}

Outcome DoUpdateRoomSettings(Call& c, const wire::UpdateRoomSettings& op) {
  Args a;
  const Uuid room = a.Id(op.room_id(), "room_id");
  const Uuid actor = a.Id(op.actor_id(), "actor_id");
  VOX_RETURN_IF_ERROR(a.status());
  SettingsArg s;
  s.Read(op.settings());
  return c.Empty(UpdateRoomSettings(c.db, c.ctx, room, actor, s.settings));
}

Outcome DoJoinRoom(Call& c, const wire::JoinRoom& op) {
  Args a;
  const Uuid room = a.Id(op.room_id(), "room_id");
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  auto r = JoinRoom(c.db, c.ctx, room, user);
  if (!r.ok()) return r.status();
  auto role = c.Name(EnumId::ParticipantRole, r->role);
  return c.Result(
      wire::Result::JoinRoomResult,
      wire::CreateJoinRoomResult(c.fbb, W(r->participant_id), role, r->muted, r->room_started));
}

// (room_id, user_id) ops: LeaveRoom.
// (room_id, actor_id) ops: EndRoom, CancelRoom, DeleteRoom.
using RoomUserFn = absl::Status (*)(Database&, const OpContext&, const Uuid&, const Uuid&);
Outcome DoRoomAndUser(Call& c, const wire::Uuid* room_id, const wire::Uuid* user_id,
                      std::string_view user_field, RoomUserFn fn) {
  Args a;
  const Uuid room = a.Id(room_id, "room_id");
  const Uuid user = a.Id(user_id, user_field);
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, room, user));
}

// Ops on a room by an actor about a target.
struct Targeted {
  Uuid room, actor, target;
};
template <typename T>
absl::StatusOr<Targeted> ReadTargeted(const T& op) {
  Args a;
  Targeted t{a.Id(op.room_id(), "room_id"), a.Id(op.actor_id(), "actor_id"),
             a.Id(op.target_id(), "target_id")};
  VOX_RETURN_IF_ERROR(a.status());
  return t;
}

// A user's own live state: SetScreenSharing, SetSpeaking.
using LiveFlagFn = absl::Status (*)(Database&, const OpContext&, const Uuid&, const Uuid&, bool);
template <typename T>
Outcome DoLiveFlag(Call& c, const T& op, bool value, LiveFlagFn fn) {
  Args a;
  const Uuid room = a.Id(op.room_id(), "room_id");
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, room, user, value));
}

Outcome DoSetConnectionStatus(Call& c, const wire::SetConnectionStatus& op) {
  Args a;
  const Uuid room = a.Id(op.room_id(), "room_id");
  const Uuid user = a.Id(op.user_id(), "user_id");
  const auto status = a.Enum<ConnectionStatus>(EnumId::ConnectionStatus, op.status(), "status");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(SetConnectionStatus(c.db, c.ctx, room, user, status));
}

Outcome DoMuteAll(Call& c, const wire::MuteAll& op) {
  Args a;
  const Uuid room = a.Id(op.room_id(), "room_id");
  const Uuid actor = a.Id(op.actor_id(), "actor_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Count(MuteAll(c.db, c.ctx, room, actor));
}

Outcome DoChangeParticipantRole(Call& c, const wire::ChangeParticipantRole& op) {
  Args a;
  const auto role = a.Enum<ParticipantRole>(EnumId::ParticipantRole, op.role(), "role");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const Targeted t, ReadTargeted(op));
  return c.Empty(ChangeParticipantRole(c.db, c.ctx, t.room, t.actor, t.target, role));
}

Outcome DoTakeModerationAction(Call& c, const wire::TakeModerationAction& op) {
  Args a;
  const ModerationRequest req{
      .moderator_id = a.Id(op.moderator_id(), "moderator_id"),
      .target_user_id = a.Id(op.target_user_id(), "target_user_id"),
      .type = a.Enum<ModerationActionType>(EnumId::ModerationActionType, op.type(), "type"),
      .room_id = OptId(op.room_id()),
      .reason = View(op.reason()),
      .expires_at = op.expires_at()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(TakeModerationAction(c.db, c.ctx, req));
}

Outcome DoRevokeModerationAction(Call& c, const wire::RevokeModerationAction& op) {
  Args a;
  const Uuid action = a.Id(op.action_id(), "action_id");
  const Uuid revoker = a.Id(op.revoker_id(), "revoker_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(RevokeModerationAction(c.db, c.ctx, action, revoker, View(op.reason())));
}

}  // namespace

std::optional<Outcome> ExecuteRooms(Call& c, Op type, const void* raw) {
  switch (type) {
    case Op::CreateAndOpenRoom:
      return DoCreateAndOpenRoom(c, *As<wire::CreateAndOpenRoom>(raw));
    case Op::CreateRoom:
      return DoCreateRoom(c, *As<wire::CreateRoom>(raw));
    case Op::UpdateRoomSettings:
      return DoUpdateRoomSettings(c, *As<wire::UpdateRoomSettings>(raw));
    case Op::JoinRoom:
      return DoJoinRoom(c, *As<wire::JoinRoom>(raw));
    case Op::LeaveRoom: {
      const auto* op = As<wire::LeaveRoom>(raw);
      return DoRoomAndUser(c, op->room_id(), op->user_id(), "user_id", &LeaveRoom);
    }
    case Op::EndRoom: {
      const auto* op = As<wire::EndRoom>(raw);
      return DoRoomAndUser(c, op->room_id(), op->actor_id(), "actor_id", &EndRoom);
    }
    case Op::CancelRoom: {
      const auto* op = As<wire::CancelRoom>(raw);
      return DoRoomAndUser(c, op->room_id(), op->actor_id(), "actor_id", &CancelRoom);
    }
    case Op::DeleteRoom: {
      const auto* op = As<wire::DeleteRoom>(raw);
      return DoRoomAndUser(c, op->room_id(), op->actor_id(), "actor_id", &DeleteRoom);
    }
    case Op::SetMuted: {
      const auto* op = As<wire::SetMuted>(raw);
      VOX_ASSIGN_OR_RETURN(const Targeted t, ReadTargeted(*op));
      return c.Empty(
          SetMuted(c.db, c.ctx, t.room, t.actor, t.target, op->muted(), op->expires_at()));
    }
    case Op::MuteAll:
      return DoMuteAll(c, *As<wire::MuteAll>(raw));
    case Op::SetHandRaised: {
      const auto* op = As<wire::SetHandRaised>(raw);
      VOX_ASSIGN_OR_RETURN(const Targeted t, ReadTargeted(*op));
      return c.Empty(SetHandRaised(c.db, c.ctx, t.room, t.actor, t.target, op->raised()));
    }
    case Op::SetScreenSharing: {
      const auto* op = As<wire::SetScreenSharing>(raw);
      return DoLiveFlag(c, *op, op->sharing(), &SetScreenSharing);
    }
    case Op::SetSpeaking: {
      const auto* op = As<wire::SetSpeaking>(raw);
      return DoLiveFlag(c, *op, op->speaking(), &SetSpeaking);
    }
    case Op::SetConnectionStatus:
      return DoSetConnectionStatus(c, *As<wire::SetConnectionStatus>(raw));
    case Op::ChangeParticipantRole:
      return DoChangeParticipantRole(c, *As<wire::ChangeParticipantRole>(raw));
    case Op::KickParticipant: {
      const auto* op = As<wire::KickParticipant>(raw);
      VOX_ASSIGN_OR_RETURN(const Targeted t, ReadTargeted(*op));
      return c.Empty(KickParticipant(c.db, c.ctx, t.room, t.actor, t.target, View(op->reason())));
    }
    case Op::BanFromRoom: {
      const auto* op = As<wire::BanFromRoom>(raw);
      VOX_ASSIGN_OR_RETURN(const Targeted t, ReadTargeted(*op));
      return c.Empty(BanFromRoom(c.db, c.ctx, t.room, t.actor, t.target, View(op->reason()),
                                 op->expires_at()));
    }
    case Op::UnbanFromRoom: {
      VOX_ASSIGN_OR_RETURN(const Targeted t, ReadTargeted(*As<wire::UnbanFromRoom>(raw)));
      return c.Empty(UnbanFromRoom(c.db, c.ctx, t.room, t.actor, t.target));
    }
    case Op::TakeModerationAction:
      return DoTakeModerationAction(c, *As<wire::TakeModerationAction>(raw));
    case Op::RevokeModerationAction:
      return DoRevokeModerationAction(c, *As<wire::RevokeModerationAction>(raw));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
