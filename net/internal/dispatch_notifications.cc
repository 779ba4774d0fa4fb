// Notification and system-event operations on the wire
// (engine/ops/notifications.h).
#include <vector>

#include "engine/ops/notifications.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

Outcome DoSendNotification(Call& c, const wire::SendNotification& op) {
  Args a;
  const SendNotificationRequest req{
      .recipient_id = a.Id(op.recipient_id(), "recipient_id"),
      .kind = a.Enum(EnumId::NotificationKind, op.kind(), "kind", NotificationKind::SYSTEM_MESSAGE),
      .actor_id = OptId(op.actor_id()),
      .room_id = OptId(op.room_id()),
      .title = View(op.title()),
      .body = View(op.body()),
      .payload = View(op.payload()),
      .expires_at = op.expires_at()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(SendNotification(c.db, c.ctx, req));
}

Outcome DoInviteToRoom(Call& c, const wire::InviteToRoom& op) {
  Args a;
  const Uuid room = a.Id(op.room_id(), "room_id");
  const Uuid inviter = a.Id(op.inviter_id(), "inviter_id");
  const Uuid invitee = a.Id(op.invitee_id(), "invitee_id");
  VOX_RETURN_IF_ERROR(a.status());
  auto r = InviteToRoom(c.db, c.ctx, room, inviter, invitee);
  if (!r.ok()) return r.status();
  return c.Result(wire::Result::InviteResult,
                  wire::CreateInviteResult(c.fbb, W(r->notification_id), r->already_invited));
}

Outcome DoRecordMissedCall(Call& c, const wire::RecordMissedCall& op) {
  Args a;
  const Uuid recipient = a.Id(op.recipient_id(), "recipient_id");
  const Uuid caller = a.Id(op.caller_id(), "caller_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(RecordMissedCall(c.db, c.ctx, recipient, caller, OptId(op.room_id())));
}

// A recipient's own notification: MarkNotificationRead, DeleteNotification.
using OwnNotificationFn = absl::Status (*)(Database&, const OpContext&, const Uuid&, const Uuid&);
template <typename T>
Outcome DoOwnNotification(Call& c, const T& op, OwnNotificationFn fn) {
  Args a;
  const Uuid notification = a.Id(op.notification_id(), "notification_id");
  const Uuid recipient = a.Id(op.recipient_id(), "recipient_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, notification, recipient));
}

Outcome DoMarkAllRead(Call& c, const wire::MarkAllRead& op) {
  Args a;
  const Uuid recipient = a.Id(op.recipient_id(), "recipient_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Count(MarkAllRead(c.db, c.ctx, recipient));
}

Outcome DoListNotifications(Call& c, const wire::ListNotifications& op) {
  Args a;
  const Uuid recipient = a.Id(op.recipient_id(), "recipient_id");
  VOX_RETURN_IF_ERROR(a.status());
  auto list = ListNotifications(c.db, c.ctx.now, recipient, op.unread_only(), op.limit());
  if (!list.ok()) return list.status();
  std::vector<fb::Offset<wire::Notification>> out;
  for (const NotificationInfo& n : *list) {
    auto kind = c.Name(EnumId::NotificationKind, n.kind);
    auto title = c.Str(n.title);
    auto body = n.body.empty() ? 0 : c.Str(n.body);
    auto payload = n.payload.empty() ? 0 : c.Str(n.payload);
    out.push_back(wire::CreateNotification(c.fbb, W(n.id), kind, W(n.actor_id), W(n.room_id), title,
                                           body, payload, n.created_at, n.read_at, n.expires_at));
  }
  auto vec = c.fbb.CreateVector(out);
  return c.Result(wire::Result::NotificationsResult, wire::CreateNotificationsResult(c.fbb, vec));
}

Outcome DoRecordSystemEvent(Call& c, const wire::RecordSystemEvent& op) {
  Args a;
  const SystemEventRequest req{
      .severity = a.Enum(EnumId::Severity, op.severity(), "severity", Severity::INFO),
      .component = View(op.component()),
      .code = View(op.code()),
      .message = View(op.message()),
      .details = View(op.details()),
      .user_id = OptId(op.user_id()),
      .room_id = OptId(op.room_id()),
      .occurred_at = op.occurred_at()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(RecordSystemEvent(c.db, c.ctx, req));
}

}  // namespace

std::optional<Outcome> ExecuteNotifications(Call& c, Op type, const void* op) {
  switch (type) {
    case Op::SendNotification:
      return DoSendNotification(c, *As<wire::SendNotification>(op));
    case Op::InviteToRoom:
      return DoInviteToRoom(c, *As<wire::InviteToRoom>(op));
    case Op::RecordMissedCall:
      return DoRecordMissedCall(c, *As<wire::RecordMissedCall>(op));
    case Op::MarkNotificationRead:
      return DoOwnNotification(c, *As<wire::MarkNotificationRead>(op), &MarkNotificationRead);
    case Op::MarkAllRead:
      return DoMarkAllRead(c, *As<wire::MarkAllRead>(op));
    case Op::DeleteNotification:
      return DoOwnNotification(c, *As<wire::DeleteNotification>(op), &DeleteNotification);
    case Op::ListNotifications:
      return DoListNotifications(c, *As<wire::ListNotifications>(op));
    case Op::RecordSystemEvent:
      return DoRecordSystemEvent(c, *As<wire::RecordSystemEvent>(op));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
