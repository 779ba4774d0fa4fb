#include "engine/ops/notifications.h"

#include <string>

#include "engine/internal/op_util.h"
#include "engine/internal/room_util.h"

namespace vox {
namespace {

using internal::JsonString;
using internal::RoomName;
using internal::UserName;

// A value for a nullable string column: null when empty.
Value StringOrNull(std::string_view s) { return s.empty() ? Value() : Value(s); }

const Table& Notifications(const Database& db) { return db.table(TableId::notifications); }

// The row of an optional reference, kNoRow when not given.
absl::StatusOr<RowId> ResolveOptional(const Database& db, TableId t, const std::optional<Uuid>& id,
                                      std::string_view what) {
  if (!id) return kNoRow;
  return internal::ResolveActive(db, t, *id, what);
}

absl::Status CheckExpiry(const OpContext& ctx, std::optional<Timestamp> expires_at) {
  if (!expires_at || *expires_at > ctx.now) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("notification expires_at ", FormatTimestamp(*expires_at), " is not in the future"));
}

bool IsExpired(const Database& db, RowId n, Timestamp now) {
  const Table& t = Notifications(db);
  return !t.IsNull(n, notifications::expires_at) && t.GetTime(n, notifications::expires_at) <= now;
}

struct NewNotification {
  RowId recipient;
  NotificationKind kind;
  RowId actor = kNoRow;
  RowId room = kNoRow;
  std::string_view title;
  std::string_view body;
  std::string_view payload;
  std::optional<Timestamp> expires_at;
};

// Inserts the row; returns its id, or the latched error.
absl::StatusOr<Uuid> Insert(Txn& txn, const NewNotification& n) {
  if (n.title.empty()) return absl::InvalidArgumentError("notification title is required");
  const RowId row =
      txn.Insert(TableId::notifications,
                 {{notifications::recipient_id, n.recipient},
                  {notifications::kind, n.kind},
                  {notifications::actor_id, internal::RefOrNull(n.actor)},
                  {notifications::room_id, internal::RefOrNull(n.room)},
                  {notifications::title, n.title},
                  {notifications::body, StringOrNull(n.body)},
                  {notifications::payload, StringOrNull(n.payload)},
                  {notifications::expires_at, n.expires_at ? Value(*n.expires_at) : Value()}});
  if (row == kNoRow) return txn.status();
  return Notifications(txn.db()).id(row);
}

// A notification of `recipient`'s, not deleted: NotFound, FailedPrecondition
// (deleted) or PermissionDenied (someone else's) otherwise.
absl::StatusOr<RowId> ResolveOwn(const Database& db, const Uuid& notification,
                                 const Uuid& recipient, std::string_view verb) {
  VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, recipient, "user"));
  VOX_ASSIGN_OR_RETURN(
      RowId n, internal::ResolveActive(db, TableId::notifications, notification, "notification"));
  if (Notifications(db).GetRef(n, notifications::recipient_id) != user) {
    return absl::PermissionDeniedError(StrCat("notification ", FormatUuid(notification),
                                              " is not for ", UserName(db, user), "; cannot ",
                                              verb));
  }
  return n;
}

// Whether `user` is present in `room` (as HOST or CO_HOST, if `hosts_only`).
bool IsPresent(const Database& db, RowId user, RowId room, bool hosts_only) {
  const RowId p = internal::FindPresent(db, room, user);
  if (p == kNoRow) return false;
  return !hosts_only || db.table(TableId::room_participants)
                                .GetEnum<ParticipantRole>(p, room_participants::role) !=
                            ParticipantRole::PARTICIPANT;
}

bool IsBanned(const Database& db, RowId user, RowId room) {
  const Value key[] = {room, user};
  return db.hash(IndexNo("participants_banned")).Find(key) != kNoRow;
}

absl::Status CheckInviter(const Database& db, RowId inviter, RowId room) {
  if (db.table(TableId::rooms).GetRef(room, rooms::owner_id) == inviter ||
      IsPresent(db, inviter, room, /*hosts_only=*/true)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(StrCat(UserName(db, inviter),
                                            " is neither the owner nor a host of ",
                                            RoomName(db, room), "; cannot invite"));
}

absl::Status CheckInvitable(const Database& db, RowId room, RowId invitee) {
  const auto status = db.table(TableId::rooms).GetEnum<RoomStatus>(room, rooms::status);
  if (status != RoomStatus::CREATED && status != RoomStatus::LIVE) {
    return absl::FailedPreconditionError(StrCat(
        RoomName(db, room), " is ", EnumName(EnumId::RoomStatus, status), "; cannot invite"));
  }
  // A SUSPENDED or BANNED account cannot join, so it is not invited either.
  const auto account =
      db.table(TableId::users).GetEnum<AccountStatus>(invitee, users::account_status);
  if (account != AccountStatus::ACTIVE) {
    return absl::FailedPreconditionError(StrCat(UserName(db, invitee), " is ",
                                                EnumName(EnumId::AccountStatus, account),
                                                "; cannot invite"));
  }
  if (IsBanned(db, invitee, room)) {
    return absl::FailedPreconditionError(
        StrCat(UserName(db, invitee), " is banned from ", RoomName(db, room), "; cannot invite"));
  }
  if (IsPresent(db, invitee, room, /*hosts_only=*/false)) {
    return absl::FailedPreconditionError(
        StrCat(UserName(db, invitee), " is already in ", RoomName(db, room)));
  }
  return absl::OkStatus();
}

// An open (not deleted, not expired) invitation of `invitee` to `room`.
RowId FindInvitation(const Database& db, RowId room, RowId invitee, Timestamp now) {
  RowId found = kNoRow;
  db.range(IndexNo("notifications_invitations"))
      .ScanPrefix({static_cast<int64_t>(room), static_cast<int64_t>(invitee)}, [&](RowId n) {
        if (!IsExpired(db, n, now)) found = n;
        return found == kNoRow;
      });
  return found;
}

NotificationInfo Describe(const Database& db, RowId n) {
  const Table& t = Notifications(db);
  NotificationInfo info;
  info.id = t.id(n);
  info.kind = t.GetEnum<NotificationKind>(n, notifications::kind);
  if (RowId a = t.GetRef(n, notifications::actor_id); a != kNoRow) {
    info.actor_id = db.table(TableId::users).id(a);
  }
  if (RowId r = t.GetRef(n, notifications::room_id); r != kNoRow) {
    info.room_id = db.table(TableId::rooms).id(r);
  }
  info.title = std::string(t.GetString(n, notifications::title));
  if (!t.IsNull(n, notifications::body)) info.body = t.GetString(n, notifications::body);
  if (!t.IsNull(n, notifications::payload)) info.payload = t.GetString(n, notifications::payload);
  info.created_at = t.GetTime(n, notifications::created_at);
  if (!t.IsNull(n, notifications::read_at)) info.read_at = t.GetTime(n, notifications::read_at);
  if (!t.IsNull(n, notifications::expires_at)) {
    info.expires_at = t.GetTime(n, notifications::expires_at);
  }
  return info;
}

// Visits `recipient`'s visible (not deleted, not expired) notifications,
// newest first, while fn(row) returns true.
template <typename Fn>
void ScanInbox(const Database& db, RowId recipient, Timestamp now, Fn&& fn) {
  db.range(IndexNo("notifications_by_recipient"))
      .ScanPrefix({static_cast<int64_t>(recipient)},
                  [&](RowId n) { return IsExpired(db, n, now) || fn(n); });
}

absl::Status RequireField(std::string_view field, std::string_view value) {
  if (!value.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("system event ", field, " is required"));
}

}  // namespace

// ---- Notifications ----------------------------------------------------------

absl::StatusOr<Uuid> SendNotification(Database& db, const OpContext& ctx,
                                      const SendNotificationRequest& req) {
  if (req.kind == NotificationKind::ROOM_INVITATION) {
    return absl::InvalidArgumentError("room invitations are sent with InviteToRoom");
  }
  VOX_RETURN_IF_ERROR(CheckExpiry(ctx, req.expires_at));
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(RowId recipient,
                         internal::ResolveActive(db, TableId::users, req.recipient_id, "user"));
    VOX_ASSIGN_OR_RETURN(RowId actor, ResolveOptional(db, TableId::users, req.actor_id, "user"));
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveOptional(db, TableId::rooms, req.room_id, "room"));
    return Insert(txn, {.recipient = recipient,
                        .kind = req.kind,
                        .actor = actor,
                        .room = room,
                        .title = req.title,
                        .body = req.body,
                        .payload = req.payload,
                        .expires_at = req.expires_at});
  });
}

absl::StatusOr<InviteResult> InviteToRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                                          const Uuid& inviter_id, const Uuid& invitee_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<InviteResult> {
    VOX_ASSIGN_OR_RETURN(RowId inviter, internal::ResolveActingUser(db, inviter_id));
    VOX_ASSIGN_OR_RETURN(RowId room, internal::ResolveActive(db, TableId::rooms, room_id, "room"));
    VOX_ASSIGN_OR_RETURN(RowId invitee,
                         internal::ResolveActive(db, TableId::users, invitee_id, "user"));
    if (invitee == inviter) return absl::InvalidArgumentError("cannot invite oneself");
    VOX_RETURN_IF_ERROR(CheckInviter(db, inviter, room));
    VOX_RETURN_IF_ERROR(CheckInvitable(db, room, invitee));
    if (RowId open = FindInvitation(db, room, invitee, ctx.now); open != kNoRow) {
      return InviteResult{Notifications(db).id(open), /*already_invited=*/true};
    }
    const Table& rooms = db.table(TableId::rooms);
    const std::string title = StrCat(
        db.table(TableId::users).GetString(inviter, users::display_name), " invited you to a room");
    const std::string payload =
        StrCat("{\"room_code\":", JsonString(rooms.GetString(room, rooms::room_code)), "}");
    VOX_ASSIGN_OR_RETURN(Uuid id, Insert(txn, {.recipient = invitee,
                                               .kind = NotificationKind::ROOM_INVITATION,
                                               .actor = inviter,
                                               .room = room,
                                               .title = title,
                                               .body = rooms.GetString(room, rooms::title),
                                               .payload = payload}));
    return InviteResult{id, /*already_invited=*/false};
  });
}

absl::StatusOr<Uuid> RecordMissedCall(Database& db, const OpContext& ctx, const Uuid& recipient_id,
                                      const Uuid& caller_id, std::optional<Uuid> room_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(RowId recipient,
                         internal::ResolveActive(db, TableId::users, recipient_id, "user"));
    VOX_ASSIGN_OR_RETURN(RowId caller,
                         internal::ResolveActive(db, TableId::users, caller_id, "user"));
    if (caller == recipient) return absl::InvalidArgumentError("a user cannot miss their own call");
    VOX_ASSIGN_OR_RETURN(RowId room, ResolveOptional(db, TableId::rooms, room_id, "room"));
    const std::string title = StrCat(
        "Missed call from ", db.table(TableId::users).GetString(caller, users::display_name));
    return Insert(txn, {.recipient = recipient,
                        .kind = NotificationKind::MISSED_CALL,
                        .actor = caller,
                        .room = room,
                        .title = title});
  });
}

absl::Status MarkNotificationRead(Database& db, const OpContext& ctx, const Uuid& notification,
                                  const Uuid& recipient) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId n, ResolveOwn(db, notification, recipient, "mark it read"));
    if (Notifications(db).IsNull(n, notifications::read_at)) {
      txn.Set(TableId::notifications, n, notifications::read_at, ctx.now);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> MarkAllRead(Database& db, const OpContext& ctx, const Uuid& recipient_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<int64_t> {
    VOX_ASSIGN_OR_RETURN(RowId recipient,
                         internal::Resolve(db, TableId::users, recipient_id, "user"));
    std::vector<RowId> unread;
    ScanInbox(db, recipient, ctx.now, [&](RowId n) {
      if (Notifications(db).IsNull(n, notifications::read_at)) unread.push_back(n);
      return true;
    });
    for (RowId n : unread) txn.Set(TableId::notifications, n, notifications::read_at, ctx.now);
    return static_cast<int64_t>(unread.size());
  });
}

absl::Status DeleteNotification(Database& db, const OpContext& ctx, const Uuid& notification,
                                const Uuid& recipient) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId n, ResolveOwn(db, notification, recipient, "delete it"));
    txn.Set(TableId::notifications, n, notifications::deleted_at, ctx.now);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<NotificationInfo>> ListNotifications(const Database& db, Timestamp now,
                                                                const Uuid& recipient_id,
                                                                bool unread_only, size_t limit) {
  if (limit == 0 || limit > kMaxNotificationPage) {
    return absl::InvalidArgumentError(
        StrCat("limit ", limit, " is outside [1, ", kMaxNotificationPage, "]"));
  }
  VOX_ASSIGN_OR_RETURN(RowId recipient,
                       internal::Resolve(db, TableId::users, recipient_id, "user"));
  std::vector<NotificationInfo> out;
  ScanInbox(db, recipient, now, [&](RowId n) {
    if (unread_only && !Notifications(db).IsNull(n, notifications::read_at)) return true;
    out.push_back(Describe(db, n));
    return out.size() < limit;
  });
  return out;
}

// ---- System events ----------------------------------------------------------

absl::StatusOr<Uuid> RecordSystemEvent(Database& db, const OpContext& ctx,
                                       const SystemEventRequest& req) {
  VOX_RETURN_IF_ERROR(RequireField("component", req.component));
  VOX_RETURN_IF_ERROR(RequireField("code", req.code));
  VOX_RETURN_IF_ERROR(RequireField("message", req.message));
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    RowId user = kNoRow, room = kNoRow;
    if (req.user_id) {
      VOX_ASSIGN_OR_RETURN(user, internal::Resolve(db, TableId::users, *req.user_id, "user"));
    }
    if (req.room_id) {
      VOX_ASSIGN_OR_RETURN(room, internal::Resolve(db, TableId::rooms, *req.room_id, "room"));
    }
    const RowId e = txn.Insert(TableId::system_events,
                               {{system_events::severity, req.severity},
                                {system_events::component, req.component},
                                {system_events::code, req.code},
                                {system_events::message, req.message},
                                {system_events::details, StringOrNull(req.details)},
                                {system_events::user_id, internal::RefOrNull(user)},
                                {system_events::room_id, internal::RefOrNull(room)},
                                {system_events::occurred_at, req.occurred_at.value_or(ctx.now)}});
    if (e == kNoRow) return txn.status();
    return db.table(TableId::system_events).id(e);
  });
}

}  // namespace vox
