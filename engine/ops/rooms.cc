#include "engine/ops/rooms.h"

#include <algorithm>
#include <vector>

#include "engine/internal/op_util.h"
#include "engine/internal/room_util.h"
#include "engine/ops/queries.h"
#include "engine/txn.h"

namespace vox {
namespace {

using internal::Audit;
using internal::JsonString;
using internal::RefOrNull;
using internal::RoomName;
using internal::UserName;

constexpr size_t kPresentByUser = IndexNo("participants_present_by_user");
constexpr size_t kBanned = IndexNo("participants_banned");
constexpr size_t kInvitations = IndexNo("notifications_invitations");
constexpr size_t kCallsByParticipant = IndexNo("call_sessions_by_participant");
constexpr size_t kRecordingsByRoom = IndexNo("recordings_by_room");
constexpr size_t kParticipantsByRoom = IndexNo("participants_by_room");

// In-room authority; platform MODERATOR+ outranks everyone in any room.
constexpr int kPlatformModeratorRank = 4;
using internal::RoleRank;

std::string_view StatusName(RoomStatus s) { return EnumName(EnumId::RoomStatus, s); }

struct Actor {
  RowId user = kNoRow;
  RowId participant = kNoRow;  // present participation, if any
  int rank = 0;
};

absl::StatusOr<Actor> ResolveActor(const Database& db, RowId room, const Uuid& actor_id) {
  Actor a;
  VOX_ASSIGN_OR_RETURN(a.user, internal::ResolveActingUser(db, actor_id));
  a.participant = internal::FindPresent(db, room, a.user);
  const Table& parts = db.table(TableId::room_participants);
  if (a.participant != kNoRow) {
    a.rank = RoleRank(parts.GetEnum<ParticipantRole>(a.participant, room_participants::role));
  }
  if (db.table(TableId::users).GetEnum<UserRole>(a.user, users::role) >= UserRole::MODERATOR) {
    a.rank = kPlatformModeratorRank;
  }
  return a;
}

bool IsOwner(const Database& db, RowId room, RowId user) {
  return db.table(TableId::rooms).GetRef(room, rooms::owner_id) == user;
}

// The target's present participation, or FailedPrecondition.
absl::StatusOr<std::pair<RowId, RowId>> ResolvePresentTarget(const Database& db, RowId room,
                                                             const Uuid& target_id) {
  VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, target_id, "user"));
  const RowId p = internal::FindPresent(db, room, user);
  if (p == kNoRow) {
    return absl::FailedPreconditionError(
        StrCat(UserName(db, user), " is not in ", RoomName(db, room)));
  }
  return std::make_pair(user, p);
}

int TargetRank(const Database& db, RowId participant) {
  return RoleRank(db.table(TableId::room_participants)
                      .GetEnum<ParticipantRole>(participant, room_participants::role));
}

// An actor of at least CO_HOST rank acting on a lower-ranked target.
absl::Status CheckOutranks(const Database& db, RowId room, const Actor& actor, int target_rank,
                           std::string_view what) {
  if (actor.rank < RoleRank(ParticipantRole::CO_HOST)) {
    return absl::PermissionDeniedError(StrCat(UserName(db, actor.user), " is not a host of ",
                                              RoomName(db, room), "; cannot ", what));
  }
  if (actor.rank <= target_rank) {
    return absl::PermissionDeniedError(StrCat(UserName(db, actor.user), " cannot ", what,
                                              " a participant of equal or higher role"));
  }
  return absl::OkStatus();
}

// Owner, present HOST, or MODERATOR+.
absl::Status CheckRoomAdmin(const Database& db, RowId room, const Actor& actor,
                            std::string_view what) {
  if (IsOwner(db, room, actor.user) || actor.rank >= RoleRank(ParticipantRole::HOST)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      StrCat(UserName(db, actor.user), " may not ", what, " ", RoomName(db, room)));
}

bool HasInvitation(const Database& db, Timestamp now, RowId room, RowId user) {
  const Table& notes = db.table(TableId::notifications);
  bool found = false;
  db.range(kInvitations)
      .ScanPrefix({static_cast<int64_t>(room), static_cast<int64_t>(user)}, [&](RowId n) {
        found = notes.IsNull(n, notifications::expires_at) ||
                notes.GetTime(n, notifications::expires_at) > now;
        return !found;
      });
  return found;
}

bool ValidCode(std::string_view code) {
  if (code.size() < 4 || code.size() > 32) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string GenerateCode(Database& db) {
  static constexpr char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";  // no 0/o, 1/l/i
  const HashTableIndex& codes = db.hash(IndexNo("rooms_room_code"));
  while (true) {
    uint64_t bits = db.RandomBits();
    std::string code(8, ' ');
    for (char& c : code) {
      c = kAlphabet[bits % (sizeof(kAlphabet) - 1)];
      bits /= sizeof(kAlphabet) - 1;
    }
    const Value key[] = {Value(code)};
    if (codes.Find(key) == kNoRow) return code;
  }
}

// Tag names -> packed tag ids, creating tags on first use.
absl::StatusOr<int64_t> ResolveTags(Txn& txn, std::span<const std::string_view> names) {
  if (names.size() > static_cast<size_t>(kMaxTagsPerRoom)) {
    return absl::InvalidArgumentError(
        StrCat("a room has at most ", kMaxTagsPerRoom, " tags; ", names.size(), " given"));
  }
  uint16_t ids[kMaxTagsPerRoom];
  const HashTableIndex& by_name = txn.db().hash(IndexNo("tags_name"));
  for (size_t i = 0; i < names.size(); ++i) {
    std::string name(names[i]);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
    const bool ok =
        !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        });
    if (!ok) {
      return absl::InvalidArgumentError(
          StrCat("tag '", names[i].substr(0, 40), "' must be 1-32 of [a-z0-9-_]"));
    }
    const Value key[] = {Value(name)};
    RowId tag = by_name.Find(key);
    if (tag == kNoRow) {
      tag = txn.Insert(TableId::tags, {{tags::name, name}});
      if (tag == kNoRow) return txn.status();
    }
    if (tag + 1 > UINT16_MAX) {
      return absl::ResourceExhaustedError("the tag vocabulary is full (65,535 tags)");
    }
    ids[i] = static_cast<uint16_t>(tag + 1);
    for (size_t j = 0; j < i; ++j) {
      if (ids[j] == ids[i])
        return absl::InvalidArgumentError(StrCat("tag '", name, "' given twice"));
    }
  }
  return PackTags({ids, names.size()});
}

absl::Status ApplySettings(Txn& txn, RowId room, const RoomSettings& s) {
  const Table& rooms = txn.table(TableId::rooms);
  auto set = [&](ColumnId c, const Value& v) { txn.Set(TableId::rooms, room, c, v); };
  auto opt_string = [](std::string_view v) { return v.empty() ? Value() : Value(v); };
  if (s.description) set(rooms::description, opt_string(*s.description));
  if (s.language) set(rooms::language, opt_string(*s.language));
  if (s.scheduled_start) set(rooms::scheduled_start, *s.scheduled_start);
  if (s.scheduled_end) set(rooms::scheduled_end, *s.scheduled_end);
  if (s.max_participants) {
    const int64_t present = rooms.GetInt(room, rooms::participant_count);
    if (*s.max_participants < present) {
      return absl::FailedPreconditionError(
          StrCat("max_participants ", *s.max_participants, " is below the ", present,
                 " participants present in ", RoomName(txn.db(), room)));
    }
    set(rooms::max_participants, *s.max_participants);
  }
  if (s.is_public) set(rooms::is_public, *s.is_public);
  if (s.is_recordable) set(rooms::is_recordable, *s.is_recordable);
  if (s.require_auth) set(rooms::require_auth, *s.require_auth);
  if (s.invite_only) set(rooms::invite_only, *s.invite_only);
  if (s.mute_on_join) set(rooms::mute_on_join, *s.mute_on_join);
  if (s.hand_raise_allowed) set(rooms::hand_raise_allowed, *s.hand_raise_allowed);
  if (s.tags) {
    VOX_ASSIGN_OR_RETURN(int64_t packed, ResolveTags(txn, *s.tags));
    set(rooms::tags, packed);
  }
  if (s.category_id) {
    if (s.category_id->IsNil()) {
      set(rooms::category_id, nullptr);
    } else {
      VOX_ASSIGN_OR_RETURN(RowId cat, internal::Resolve(txn.db(), TableId::room_categories,
                                                        *s.category_id, "room category"));
      set(rooms::category_id, cat);
    }
  }
  if (!rooms.IsNull(room, rooms::scheduled_start) && !rooms.IsNull(room, rooms::scheduled_end) &&
      rooms.GetTime(room, rooms::scheduled_end) <= rooms.GetTime(room, rooms::scheduled_start)) {
    return absl::InvalidArgumentError("scheduled_end must be after scheduled_start");
  }
  return absl::OkStatus();
}

absl::StatusOr<CreateRoomResult> CreateInTxn(Txn& txn, const OpContext& ctx,
                                             const CreateRoomRequest& req, RowId* room_out) {
  Database& db = txn.db();
  VOX_ASSIGN_OR_RETURN(RowId owner, internal::ResolveActingUser(db, req.owner_id));
  if (req.title.empty()) return absl::InvalidArgumentError("a room needs a title");
  std::string code(req.room_code);
  if (code.empty()) {
    code = GenerateCode(db);
  } else if (!ValidCode(code)) {
    return absl::InvalidArgumentError(
        StrCat("room code '", code.substr(0, 40), "' must be 4-32 of [a-z0-9-]"));
  } else {
    const Value key[] = {Value(code)};
    if (db.hash(IndexNo("rooms_room_code")).Find(key) != kNoRow) {
      return absl::AlreadyExistsError(StrCat("room code '", code, "' is taken"));
    }
  }
  const RowId room =
      txn.Insert(TableId::rooms,
                 {{rooms::owner_id, owner}, {rooms::room_code, code}, {rooms::title, req.title}});
  if (room == kNoRow) return txn.status();
  VOX_RETURN_IF_ERROR(ApplySettings(txn, room, req.settings));
  Audit(txn, ctx, AuditAction::ROOM_CREATED, owner, room, kNoRow);
  *room_out = room;
  return CreateRoomResult{db.table(TableId::rooms).id(room), code, {}};
}

absl::StatusOr<JoinResult> JoinInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId user) {
  const Database& db = txn.db();
  const Table& rooms = db.table(TableId::rooms);
  const RoomStatus status = rooms.GetEnum<RoomStatus>(room, rooms::status);
  const bool owner = IsOwner(db, room, user);
  if (status == RoomStatus::CREATED && !owner) {
    return absl::FailedPreconditionError(
        StrCat(RoomName(db, room), " has not started; waiting for its host"));
  }
  // Only CREATED (above) and LIVE rooms take people: not ENDED or CANCELLED,
  // nor a status a migration added (BANNED), whose meaning no operation knows.
  if (status != RoomStatus::LIVE && status != RoomStatus::CREATED) {
    return absl::FailedPreconditionError(
        StrCat(RoomName(db, room), " is ", StatusName(status), "; cannot join"));
  }
  const Value ban_key[] = {Value(room), Value(user)};
  if (db.hash(kBanned).Find(ban_key) != kNoRow) {
    return absl::PermissionDeniedError(
        StrCat(UserName(db, user), " is banned from ", RoomName(db, room)));
  }
  if (internal::FindPresent(db, room, user) != kNoRow) {
    return absl::AlreadyExistsError(
        StrCat(UserName(db, user), " is already in ", RoomName(db, room)));
  }
  if (!owner && rooms.GetBool(room, rooms::invite_only) &&
      !HasInvitation(db, ctx.now, room, user)) {
    return absl::PermissionDeniedError(StrCat(RoomName(db, room), " is invite-only and ",
                                              UserName(db, user), " has no invitation"));
  }
  const int64_t present = rooms.GetInt(room, rooms::participant_count);
  const int64_t capacity = rooms.GetInt(room, rooms::max_participants);
  if (present >= capacity) {
    return absl::ResourceExhaustedError(
        StrCat(RoomName(db, room), " is full (", present, " of ", capacity, ")"));
  }
  JoinResult result;
  result.role = owner ? ParticipantRole::HOST : ParticipantRole::PARTICIPANT;
  result.muted = !owner && rooms.GetBool(room, rooms::mute_on_join);
  const RowId p =
      txn.Insert(TableId::room_participants,
                 {{room_participants::user_id, user},
                  {room_participants::room_id, room},
                  {room_participants::role, result.role},
                  {room_participants::is_muted, result.muted},
                  {room_participants::muted_by_host, result.muted},
                  {room_participants::muted_at, result.muted ? Value(ctx.now) : Value()}});
  if (p == kNoRow) return txn.status();
  Audit(txn, ctx, AuditAction::USER_JOINED, user, room, kNoRow);
  txn.Set(TableId::rooms, room, rooms::total_joins, rooms.GetInt(room, rooms::total_joins) + 1);
  txn.Set(TableId::rooms, room, rooms::participant_count, present + 1);
  if (present + 1 > rooms.GetInt(room, rooms::peak_participants)) {
    txn.Set(TableId::rooms, room, rooms::peak_participants, present + 1);
  }
  result.room_started = status == RoomStatus::CREATED;
  if (result.room_started) {
    txn.Set(TableId::rooms, room, rooms::status, RoomStatus::LIVE);
    txn.Set(TableId::rooms, room, rooms::started_at, ctx.now);
    Audit(txn, ctx, AuditAction::ROOM_STARTED, user, room, kNoRow);
  }
  result.participant_id = db.table(TableId::room_participants).id(p);
  return result;
}

// Resolves the room (live, not deleted) for an operation inside a txn.
absl::StatusOr<RowId> ResolveRoom(const Database& db, const Uuid& room_id) {
  return internal::ResolveActive(db, TableId::rooms, room_id, "room");
}

void SetParticipant(Txn& txn, RowId p, ColumnId c, const Value& v) {
  txn.Set(TableId::room_participants, p, c, v);
}

}  // namespace

// ---- internal steps ------------------------------------------------------------

namespace internal {

int RoleRank(ParticipantRole role) {
  switch (role) {
    case ParticipantRole::HOST:
      return 3;
    case ParticipantRole::CO_HOST:
      return 2;
    case ParticipantRole::PARTICIPANT:
      return 1;
  }
  return 0;
}

RowId FindPresent(const Database& db, RowId room, RowId user) {
  const Table& parts = db.table(TableId::room_participants);
  RowId found = kNoRow;
  db.range(kPresentByUser).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId p) {
    if (parts.GetRef(p, room_participants::room_id) == room) found = p;
    return found == kNoRow;
  });
  return found;
}

void LeaveInTxn(Txn& txn, RowId p) {
  const Database& db = txn.db();
  const Table& parts = db.table(TableId::room_participants);
  const Timestamp now = txn.now();
  const Timestamp joined = parts.GetTime(p, room_participants::joined_at);
  SetParticipant(txn, p, room_participants::left_at, now);
  SetParticipant(txn, p, room_participants::duration_seconds,
                 std::max<int64_t>(0, (now - joined) / kMicrosPerSecond));
  if (parts.GetBool(p, room_participants::hand_raised)) {
    SetParticipant(txn, p, room_participants::hand_raised, false);
  }
  if (parts.GetBool(p, room_participants::is_speaking)) {
    SetParticipant(txn, p, room_participants::is_speaking, false);
  }
  if (parts.GetBool(p, room_participants::is_screen_sharing)) {
    SetParticipant(txn, p, room_participants::is_screen_sharing, false);
  }
  if (!parts.IsNull(p, room_participants::mute_expires_at)) {
    SetParticipant(txn, p, room_participants::mute_expires_at, nullptr);
  }
  SetParticipant(txn, p, room_participants::connection_status, ConnectionStatus::DISCONNECTED);
  const RowId room = parts.GetRef(p, room_participants::room_id);
  const Table& rooms = db.table(TableId::rooms);
  txn.Set(TableId::rooms, room, rooms::participant_count,
          rooms.GetInt(room, rooms::participant_count) - 1);
  // The participant's open call sessions end with them.
  const Table& calls = db.table(TableId::call_sessions);
  std::vector<RowId> open;
  db.range(kCallsByParticipant).ScanPrefix({static_cast<int64_t>(p)}, [&](RowId c) {
    if (calls.IsNull(c, call_sessions::ended_at)) open.push_back(c);
    return true;
  });
  for (RowId c : open) {
    const auto status = calls.GetEnum<CallSessionStatus>(c, call_sessions::status);
    if (status == CallSessionStatus::CONNECTING) {
      txn.Set(TableId::call_sessions, c, call_sessions::status, CallSessionStatus::FAILED);
      txn.Set(TableId::call_sessions, c, call_sessions::failure_reason,
              CallFailureReason::CLIENT_ERROR);
      txn.Set(TableId::call_sessions, c, call_sessions::failure_detail, "participant left");
    } else {
      txn.Set(TableId::call_sessions, c, call_sessions::status, CallSessionStatus::ENDED);
    }
    txn.Set(TableId::call_sessions, c, call_sessions::ended_at, now);
  }
}

void EndRoomInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId actor) {
  const Database& db = txn.db();
  std::vector<RowId> present;
  db.range(kParticipantsByRoom).ScanPrefix({static_cast<int64_t>(room), kNullKey}, [&](RowId p) {
    present.push_back(p);
    return true;
  });
  for (RowId p : present) LeaveInTxn(txn, p);
  const Table& rooms = db.table(TableId::rooms);
  txn.Set(TableId::rooms, room, rooms::status, RoomStatus::ENDED);
  txn.Set(TableId::rooms, room, rooms::ended_at, ctx.now);
  const Timestamp started =
      rooms.IsNull(room, rooms::started_at) ? ctx.now : rooms.GetTime(room, rooms::started_at);
  txn.Set(TableId::rooms, room, rooms::duration_seconds,
          std::max<int64_t>(0, (ctx.now - started) / kMicrosPerSecond));
  // Recordings still running stop with the room.
  const Table& recs = db.table(TableId::recordings);
  std::vector<RowId> running;
  db.range(kRecordingsByRoom).ScanPrefix({static_cast<int64_t>(room)}, [&](RowId r) {
    const auto s = recs.GetEnum<RecordingStatus>(r, recordings::status);
    if ((s == RecordingStatus::STARTED || s == RecordingStatus::IN_PROGRESS) &&
        recs.IsNull(r, recordings::deleted_at)) {
      running.push_back(r);
    }
    return true;
  });
  for (RowId r : running) {
    txn.Set(TableId::recordings, r, recordings::status, RecordingStatus::STOPPED);
    txn.Set(TableId::recordings, r, recordings::stopped_at, ctx.now);
    txn.Set(TableId::recordings, r, recordings::duration_seconds,
            std::max<int64_t>(
                0, (ctx.now - recs.GetTime(r, recordings::started_at)) / kMicrosPerSecond));
    Audit(txn, ctx, AuditAction::RECORDING_STOPPED, actor, room, kNoRow,
          StrCat(R"({"recording_id":")", FormatUuid(recs.id(r)), R"(","reason":"room_ended"})"));
  }
  Audit(txn, ctx, AuditAction::ROOM_ENDED, actor, room, kNoRow,
        StrCat(R"({"participants_left":)", present.size(), "}"));
}

void KickInTxn(Txn& txn, const OpContext& ctx, RowId p, RowId actor, std::string_view reason) {
  LeaveInTxn(txn, p);
  SetParticipant(txn, p, room_participants::is_kicked, true);
  SetParticipant(txn, p, room_participants::kicked_at, ctx.now);
  SetParticipant(txn, p, room_participants::kicked_by, RefOrNull(actor));
  SetParticipant(txn, p, room_participants::kick_reason, reason.empty() ? Value() : Value(reason));
  const Table& parts = txn.table(TableId::room_participants);
  Audit(txn, ctx, AuditAction::USER_KICKED, actor, parts.GetRef(p, room_participants::room_id),
        parts.GetRef(p, room_participants::user_id),
        reason.empty() ? "" : StrCat(R"({"reason":)", JsonString(reason), "}"));
}

absl::Status BanInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId user, RowId actor,
                      std::string_view reason, std::optional<Timestamp> expires_at) {
  const Database& db = txn.db();
  if (IsOwner(db, room, user)) {
    return absl::PermissionDeniedError(
        StrCat("the owner of ", RoomName(db, room), " cannot be banned from it"));
  }
  if (IsBanned(db, room, user)) {
    return absl::AlreadyExistsError(
        StrCat(UserName(db, user), " is already banned from ", RoomName(db, room)));
  }
  RowId p = FindPresent(db, room, user);
  if (p != kNoRow) {
    LeaveInTxn(txn, p);
  } else {
    // Mark the user's latest participation, or record one for the ban.
    const Table& parts = db.table(TableId::room_participants);
    Timestamp latest = INT64_MIN;
    db.range(kParticipantsByRoom).ScanPrefix({static_cast<int64_t>(room)}, [&](RowId r) {
      if (parts.GetRef(r, room_participants::user_id) == user &&
          parts.GetTime(r, room_participants::joined_at) >= latest) {
        latest = parts.GetTime(r, room_participants::joined_at);
        p = r;
      }
      return true;
    });
    if (p == kNoRow) {
      p = txn.Insert(TableId::room_participants,
                     {{room_participants::user_id, user},
                      {room_participants::room_id, room},
                      {room_participants::left_at, ctx.now},
                      {room_participants::connection_status, ConnectionStatus::DISCONNECTED}});
      if (p == kNoRow) return txn.status();
    }
  }
  SetParticipant(txn, p, room_participants::is_banned, true);
  SetParticipant(txn, p, room_participants::banned_at, ctx.now);
  SetParticipant(txn, p, room_participants::banned_by, RefOrNull(actor));
  SetParticipant(txn, p, room_participants::ban_reason, reason.empty() ? Value() : Value(reason));
  SetParticipant(txn, p, room_participants::ban_expires_at,
                 expires_at ? Value(*expires_at) : Value());
  Audit(txn, ctx, AuditAction::USER_BANNED, actor, room, user,
        reason.empty() ? "" : StrCat(R"({"reason":)", JsonString(reason), "}"));
  return absl::OkStatus();
}

bool UnbanInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId user, RowId actor) {
  const Value ban_key[] = {Value(room), Value(user)};
  const RowId p = txn.db().hash(kBanned).Find(ban_key);
  if (p == kNoRow) return false;
  SetParticipant(txn, p, room_participants::is_banned, false);
  SetParticipant(txn, p, room_participants::ban_expires_at, nullptr);
  Audit(txn, ctx, AuditAction::USER_UNBANNED, actor, room, user);
  return true;
}

void HostMuteInTxn(Txn& txn, const OpContext& ctx, RowId p, RowId actor, bool muted,
                   std::optional<Timestamp> expires_at) {
  const Table& parts = txn.table(TableId::room_participants);
  SetParticipant(txn, p, room_participants::is_muted, muted);
  SetParticipant(txn, p, room_participants::muted_by_host, muted);
  SetParticipant(txn, p, room_participants::mute_expires_at,
                 muted && expires_at ? Value(*expires_at) : Value());
  if (muted) {
    SetParticipant(txn, p, room_participants::muted_at, ctx.now);
    SetParticipant(txn, p, room_participants::mute_count,
                   parts.GetInt(p, room_participants::mute_count) + 1);
  }
  Audit(txn, ctx, muted ? AuditAction::USER_MUTED : AuditAction::USER_UNMUTED, actor,
        parts.GetRef(p, room_participants::room_id), parts.GetRef(p, room_participants::user_id),
        R"({"self":false})");
}

void DeleteRoomInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId actor) {
  if (txn.table(TableId::rooms).GetEnum<RoomStatus>(room, rooms::status) == RoomStatus::LIVE) {
    EndRoomInTxn(txn, ctx, room, actor);
  }
  txn.Set(TableId::rooms, room, rooms::deleted_at, ctx.now);
  Audit(txn, ctx, AuditAction::ROOM_UPDATED, actor, room, kNoRow, R"({"deleted":true})");
}

}  // namespace internal

// ---- operations ------------------------------------------------------------------

absl::StatusOr<CreateRoomResult> CreateRoom(Database& db, const OpContext& ctx,
                                            const CreateRoomRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<CreateRoomResult> {
    RowId room;
    return CreateInTxn(txn, ctx, req, &room);
  });
}

absl::StatusOr<CreateRoomResult> CreateAndOpenRoom(Database& db, const OpContext& ctx,
                                                   const CreateRoomRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<CreateRoomResult> {
    RowId room = kNoRow;
    VOX_ASSIGN_OR_RETURN(CreateRoomResult result, CreateInTxn(txn, ctx, req, &room));
    const RowId owner = db.table(TableId::rooms).GetRef(room, rooms::owner_id);
    VOX_ASSIGN_OR_RETURN(JoinResult joined, JoinInTxn(txn, ctx, room, owner));
    result.host_participant_id = joined.participant_id;
    return result;
  });
}

absl::Status UpdateRoomSettings(Database& db, const OpContext& ctx, const Uuid& room_id,
                                const Uuid& actor_id, const RoomSettings& settings) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_RETURN_IF_ERROR(CheckRoomAdmin(db, room, actor, "change the settings of"));
    if (settings.title) {
      if (settings.title->empty()) return absl::InvalidArgumentError("a room needs a title");
      txn.Set(TableId::rooms, room, rooms::title, *settings.title);
    }
    VOX_RETURN_IF_ERROR(ApplySettings(txn, room, settings));
    Audit(txn, ctx, AuditAction::ROOM_UPDATED, actor.user, room, kNoRow);
    return absl::OkStatus();
  });
}

absl::StatusOr<JoinResult> JoinRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                                    const Uuid& user_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<JoinResult> {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActingUser(db, user_id));
    return JoinInTxn(txn, ctx, room, user);
  });
}

absl::Status LeaveRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                       const Uuid& user_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, internal::Resolve(db, TableId::rooms, room_id, "room"));
    VOX_ASSIGN_OR_RETURN(auto target, ResolvePresentTarget(db, room, user_id));
    internal::LeaveInTxn(txn, target.second);
    Audit(txn, ctx, AuditAction::USER_LEFT, target.first, room, kNoRow);
    return absl::OkStatus();
  });
}

absl::Status SetMuted(Database& db, const OpContext& ctx, const Uuid& room_id, const Uuid& actor_id,
                      const Uuid& target_id, bool muted, std::optional<Timestamp> expires_at) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_ASSIGN_OR_RETURN(auto target, ResolvePresentTarget(db, room, target_id));
    const RowId p = target.second;
    const Table& parts = db.table(TableId::room_participants);
    const bool self = actor.user == target.first;
    if (self) {
      if (!muted && parts.GetBool(p, room_participants::muted_by_host)) {
        return absl::PermissionDeniedError(
            StrCat(UserName(db, actor.user), " was muted by a host and cannot unmute"));
      }
      if (expires_at) return absl::InvalidArgumentError("a self-mute has no expiry");
    } else {
      VOX_RETURN_IF_ERROR(
          CheckOutranks(db, room, actor, TargetRank(db, p), muted ? "mute" : "unmute"));
      VOX_RETURN_IF_ERROR(
          internal::CheckPlatformRank(db, actor.user, target.first, muted ? "mute" : "unmute"));
    }
    if (expires_at && *expires_at <= ctx.now) {
      return absl::InvalidArgumentError("the mute expiry must be in the future");
    }
    if (parts.GetBool(p, room_participants::is_muted) == muted && !expires_at) {
      return absl::OkStatus();  // already so: nothing to record
    }
    if (self) {
      SetParticipant(txn, p, room_participants::is_muted, muted);
      if (muted) {
        SetParticipant(txn, p, room_participants::muted_at, ctx.now);
        SetParticipant(txn, p, room_participants::mute_count,
                       parts.GetInt(p, room_participants::mute_count) + 1);
      }
      Audit(txn, ctx, muted ? AuditAction::USER_MUTED : AuditAction::USER_UNMUTED, actor.user, room,
            target.first, R"({"self":true})");
    } else {
      internal::HostMuteInTxn(txn, ctx, p, actor.user, muted, expires_at);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> MuteAll(Database& db, const OpContext& ctx, const Uuid& room_id,
                            const Uuid& actor_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<int> {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    if (actor.rank < RoleRank(ParticipantRole::CO_HOST)) {
      return absl::PermissionDeniedError(
          StrCat(UserName(db, actor.user), " is not a host of ", RoomName(db, room)));
    }
    const Table& parts = db.table(TableId::room_participants);
    std::vector<RowId> targets;
    db.range(kParticipantsByRoom).ScanPrefix({static_cast<int64_t>(room), kNullKey}, [&](RowId p) {
      if (TargetRank(db, p) < actor.rank && !parts.GetBool(p, room_participants::is_muted) &&
          internal::CheckPlatformRank(db, actor.user, parts.GetRef(p, room_participants::user_id),
                                      "mute")
              .ok()) {
        targets.push_back(p);
      }
      return true;
    });
    for (RowId p : targets) {
      SetParticipant(txn, p, room_participants::is_muted, true);
      SetParticipant(txn, p, room_participants::muted_by_host, true);
      SetParticipant(txn, p, room_participants::muted_at, ctx.now);
      SetParticipant(txn, p, room_participants::mute_count,
                     parts.GetInt(p, room_participants::mute_count) + 1);
    }
    Audit(txn, ctx, AuditAction::ALL_MUTED, actor.user, room, kNoRow,
          StrCat(R"({"muted":)", targets.size(), "}"));
    return static_cast<int>(targets.size());
  });
}

absl::Status SetHandRaised(Database& db, const OpContext& ctx, const Uuid& room_id,
                           const Uuid& actor_id, const Uuid& target_id, bool raised) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_ASSIGN_OR_RETURN(auto target, ResolvePresentTarget(db, room, target_id));
    const RowId p = target.second;
    const bool self = actor.user == target.first;
    if (raised) {
      if (!self) return absl::PermissionDeniedError("only participants raise their own hand");
      if (!db.table(TableId::rooms).GetBool(room, rooms::hand_raise_allowed)) {
        return absl::FailedPreconditionError(
            StrCat(RoomName(db, room), " does not allow raising hands"));
      }
    } else if (!self) {
      VOX_RETURN_IF_ERROR(CheckOutranks(db, room, actor, TargetRank(db, p), "lower the hand of"));
    }
    const Table& parts = db.table(TableId::room_participants);
    if (parts.GetBool(p, room_participants::hand_raised) == raised) return absl::OkStatus();
    SetParticipant(txn, p, room_participants::hand_raised, raised);
    if (raised) {
      SetParticipant(txn, p, room_participants::hand_raised_at, ctx.now);
      SetParticipant(txn, p, room_participants::hand_raise_count,
                     parts.GetInt(p, room_participants::hand_raise_count) + 1);
    }
    Audit(txn, ctx, raised ? AuditAction::HAND_RAISED : AuditAction::HAND_LOWERED, actor.user, room,
          target.first);
    return absl::OkStatus();
  });
}

namespace {

// A self-only live-state change on a present participant.
absl::Status SetOwnState(Database& db, const OpContext& ctx, const Uuid& room_id,
                         const Uuid& user_id, ColumnId column, int64_t value,
                         std::optional<AuditAction> action) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(auto target, ResolvePresentTarget(db, room, user_id));
    const Table& parts = db.table(TableId::room_participants);
    if (parts.GetInt(target.second, column) == value) return absl::OkStatus();
    SetParticipant(txn, target.second, column, value);
    if (action) Audit(txn, ctx, *action, target.first, room, kNoRow);
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status SetScreenSharing(Database& db, const OpContext& ctx, const Uuid& room_id,
                              const Uuid& user_id, bool sharing) {
  return SetOwnState(
      db, ctx, room_id, user_id, room_participants::is_screen_sharing, sharing,
      sharing ? AuditAction::SCREEN_SHARE_STARTED : AuditAction::SCREEN_SHARE_STOPPED);
}

absl::Status SetSpeaking(Database& db, const OpContext& ctx, const Uuid& room_id,
                         const Uuid& user_id, bool speaking) {
  return SetOwnState(db, ctx, room_id, user_id, room_participants::is_speaking, speaking,
                     std::nullopt);
}

absl::Status SetConnectionStatus(Database& db, const OpContext& ctx, const Uuid& room_id,
                                 const Uuid& user_id, ConnectionStatus status) {
  return SetOwnState(db, ctx, room_id, user_id, room_participants::connection_status,
                     static_cast<int64_t>(status), std::nullopt);
}

absl::Status ChangeParticipantRole(Database& db, const OpContext& ctx, const Uuid& room_id,
                                   const Uuid& actor_id, const Uuid& target_id,
                                   ParticipantRole role) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    if (actor.rank < RoleRank(ParticipantRole::HOST)) {
      return absl::PermissionDeniedError(
          StrCat("only the host of ", RoomName(db, room), " changes roles"));
    }
    if (role == ParticipantRole::HOST) {
      return absl::InvalidArgumentError("a room has one HOST, its owner; promote to CO_HOST");
    }
    VOX_ASSIGN_OR_RETURN(auto target, ResolvePresentTarget(db, room, target_id));
    const int old_rank = TargetRank(db, target.second);
    if (old_rank >= actor.rank) {
      return absl::PermissionDeniedError("cannot change the role of an equal or higher role");
    }
    const int new_rank = RoleRank(role);
    if (new_rank == old_rank) return absl::OkStatus();
    SetParticipant(txn, target.second, room_participants::role, role);
    Audit(txn, ctx, new_rank > old_rank ? AuditAction::ROLE_PROMOTION : AuditAction::ROLE_DEMOTION,
          actor.user, room, target.first,
          StrCat(R"({"role":")", EnumName(EnumId::ParticipantRole, role), R"("})"));
    return absl::OkStatus();
  });
}

absl::Status KickParticipant(Database& db, const OpContext& ctx, const Uuid& room_id,
                             const Uuid& actor_id, const Uuid& target_id, std::string_view reason) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_ASSIGN_OR_RETURN(auto target, ResolvePresentTarget(db, room, target_id));
    VOX_RETURN_IF_ERROR(CheckOutranks(db, room, actor, TargetRank(db, target.second), "kick"));
    VOX_RETURN_IF_ERROR(internal::CheckPlatformRank(db, actor.user, target.first, "kick"));
    internal::KickInTxn(txn, ctx, target.second, actor.user, reason);
    return absl::OkStatus();
  });
}

absl::Status BanFromRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                         const Uuid& actor_id, const Uuid& target_id, std::string_view reason,
                         std::optional<Timestamp> expires_at) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, internal::Resolve(db, TableId::rooms, room_id, "room"));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, target_id, "user"));
    if (expires_at && *expires_at <= ctx.now) {
      return absl::InvalidArgumentError("the ban expiry must be in the future");
    }
    const RowId p = internal::FindPresent(db, room, user);
    VOX_RETURN_IF_ERROR(CheckOutranks(db, room, actor, p == kNoRow ? 0 : TargetRank(db, p), "ban"));
    VOX_RETURN_IF_ERROR(internal::CheckPlatformRank(db, actor.user, user, "ban"));
    return internal::BanInTxn(txn, ctx, room, user, actor.user, reason, expires_at);
  });
}

absl::Status UnbanFromRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                           const Uuid& actor_id, const Uuid& target_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, internal::Resolve(db, TableId::rooms, room_id, "room"));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, target_id, "user"));
    VOX_RETURN_IF_ERROR(CheckOutranks(db, room, actor, 0, "unban"));
    if (!internal::UnbanInTxn(txn, ctx, room, user, actor.user)) {
      return absl::NotFoundError(
          StrCat(UserName(db, user), " is not banned from ", RoomName(db, room)));
    }
    return absl::OkStatus();
  });
}

absl::Status EndRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                     const Uuid& actor_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_RETURN_IF_ERROR(CheckRoomAdmin(db, room, actor, "end"));
    const RoomStatus status = db.table(TableId::rooms).GetEnum<RoomStatus>(room, rooms::status);
    if (status != RoomStatus::LIVE) {
      return absl::FailedPreconditionError(
          StrCat(RoomName(db, room), " is ", StatusName(status), "; only a LIVE room can end",
                 status == RoomStatus::CREATED ? " (cancel it instead)" : ""));
    }
    internal::EndRoomInTxn(txn, ctx, room, actor.user);
    return absl::OkStatus();
  });
}

absl::Status CancelRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                        const Uuid& actor_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_RETURN_IF_ERROR(CheckRoomAdmin(db, room, actor, "cancel"));
    const RoomStatus status = db.table(TableId::rooms).GetEnum<RoomStatus>(room, rooms::status);
    if (status != RoomStatus::CREATED) {
      return absl::FailedPreconditionError(StrCat(RoomName(db, room), " is ", StatusName(status),
                                                  "; only a CREATED room can be cancelled"));
    }
    txn.Set(TableId::rooms, room, rooms::status, RoomStatus::CANCELLED);
    Audit(txn, ctx, AuditAction::ROOM_CANCELLED, actor.user, room, kNoRow);
    return absl::OkStatus();
  });
}

absl::Status DeleteRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                        const Uuid& actor_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveRoom(db, room_id));
    VOX_ASSIGN_OR_RETURN(Actor actor, ResolveActor(db, room, actor_id));
    VOX_RETURN_IF_ERROR(CheckRoomAdmin(db, room, actor, "delete"));
    internal::DeleteRoomInTxn(txn, ctx, room, actor.user);
    return absl::OkStatus();
  });
}

}  // namespace vox
