// Notification and system-event operations: a user's inbox (room
// invitations, missed calls, system messages...) and the operational event
// log used for troubleshooting. Each write is one atomic transaction: on any
// error nothing changes. Neither writes audit rows: they are not security
// events (the operations they report on audit themselves).
// Thread-compatible: engine thread only (see Database).
//
// Request strings are views that must outlive the call; an empty optional
// string means "not given" (stored null).
#ifndef VOXDB_ENGINE_OPS_NOTIFICATIONS_H_
#define VOXDB_ENGINE_OPS_NOTIFICATIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

// ---- Notifications ----------------------------------------------------------

struct SendNotificationRequest {
  Uuid recipient_id;
  NotificationKind kind = NotificationKind::SYSTEM_MESSAGE;
  std::optional<Uuid> actor_id;
  std::optional<Uuid> room_id;
  std::string_view title;               // required, up to 200 bytes
  std::string_view body;                // up to 2000 bytes
  std::string_view payload;             // a JSON value, up to 8192 bytes
  std::optional<Timestamp> expires_at;  // must be after now
};

// Puts a notification in the recipient's inbox; returns its id. The
// recipient (and actor, room if given) must exist and not be deleted.
// ROOM_INVITATION is refused here: invitations go through InviteToRoom.
// Errors: NotFound, FailedPrecondition (deleted), InvalidArgument (empty
// title, too long, invalid JSON payload, expiry not in the future).
absl::StatusOr<Uuid> SendNotification(Database& db, const OpContext& ctx,
                                      const SendNotificationRequest& req);

struct InviteResult {
  Uuid notification_id;
  bool already_invited = false;  // an open invitation existed; nothing was written
};

// `inviter` invites `invitee` to a CREATED or LIVE room: a ROOM_INVITATION
// notification with room_id set, which the join of an invite-only room
// looks for (index notifications_invitations). Idempotent while an earlier
// invitation is neither deleted nor expired. The inviter must be the room's
// owner or a present HOST/CO_HOST. Errors: NotFound, PermissionDenied,
// FailedPrecondition (room state; invitee deleted, not ACTIVE, already
// present or banned from the room), InvalidArgument (inviting oneself).
absl::StatusOr<InviteResult> InviteToRoom(Database& db, const OpContext& ctx, const Uuid& room,
                                          const Uuid& inviter, const Uuid& invitee);

// Tells `recipient` that `caller` called (in `room`, if given): a MISSED_CALL
// notification. Returns its id.
absl::StatusOr<Uuid> RecordMissedCall(Database& db, const OpContext& ctx, const Uuid& recipient,
                                      const Uuid& caller, std::optional<Uuid> room = std::nullopt);

// Sets read_at = now; OK without change if already read. PermissionDenied if
// the notification is not `recipient`'s; FailedPrecondition if deleted.
absl::Status MarkNotificationRead(Database& db, const OpContext& ctx, const Uuid& notification,
                                  const Uuid& recipient);

// Marks every unread, unexpired notification of `recipient` read; returns
// how many.
absl::StatusOr<int64_t> MarkAllRead(Database& db, const OpContext& ctx, const Uuid& recipient);

// Soft-deletes a notification of `recipient` (deleted_at = now).
// PermissionDenied if not theirs; FailedPrecondition if already deleted.
absl::Status DeleteNotification(Database& db, const OpContext& ctx, const Uuid& notification,
                                const Uuid& recipient);

struct NotificationInfo {
  Uuid id;
  NotificationKind kind = NotificationKind::SYSTEM_MESSAGE;
  std::optional<Uuid> actor_id;
  std::optional<Uuid> room_id;
  std::string title;
  std::string body;     // empty when null
  std::string payload;  // empty when null
  Timestamp created_at = 0;
  std::optional<Timestamp> read_at;
  std::optional<Timestamp> expires_at;
};

inline constexpr size_t kMaxNotificationPage = 1000;

// `recipient`'s notifications, newest first, at most `limit` (1 to
// kMaxNotificationPage), skipping deleted ones and those expired at `now`;
// only unread ones if `unread_only`. NotFound for an unknown recipient.
absl::StatusOr<std::vector<NotificationInfo>> ListNotifications(const Database& db, Timestamp now,
                                                                const Uuid& recipient,
                                                                bool unread_only, size_t limit);

// ---- System events ----------------------------------------------------------

struct SystemEventRequest {
  Severity severity = Severity::INFO;
  std::string_view component;  // required, up to 64 bytes: "wal", "net", ...
  std::string_view code;       // required, up to 64 bytes: "FSYNC_SLOW", ...
  std::string_view message;    // required, up to 2000 bytes
  std::string_view details;    // a JSON value, up to 8192 bytes
  std::optional<Uuid> user_id;
  std::optional<Uuid> room_id;
  std::optional<Timestamp> occurred_at;  // defaults to ctx.now
};

// Appends an event to the system event log; returns its id. The user and
// room, if given, must exist (deleted ones are fine: events outlive them).
// Errors: NotFound, InvalidArgument (missing or too long fields, bad JSON).
absl::StatusOr<Uuid> RecordSystemEvent(Database& db, const OpContext& ctx,
                                       const SystemEventRequest& req);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_NOTIFICATIONS_H_
