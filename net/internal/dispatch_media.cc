// Recording and call-session operations on the wire (engine/ops/media.h).
#include <vector>

#include "engine/ops/media.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

// ---- Recordings ------------------------------------------------------------------

Outcome DoStartRecording(Call& c, const wire::StartRecording& op) {
  Args a;
  const StartRecordingRequest req{.room_id = a.Id(op.room_id(), "room_id"),
                                  .actor_id = a.Id(op.actor_id(), "actor_id"),
                                  .storage_key = View(op.storage_key()),
                                  .storage_bucket = View(op.storage_bucket()),
                                  .filename = View(op.filename()),
                                  .codec = View(op.codec()),
                                  .resolution = View(op.resolution()),
                                  .fps = op.fps(),
                                  .bitrate = op.bitrate(),
                                  .is_public = op.is_public()};
  VOX_RETURN_IF_ERROR(a.status());
  auto r = StartRecording(c.db, c.ctx, req);
  if (!r.ok()) return r.status();
  return c.Id(r->recording_id);
}

// Ops taking only the recording: MarkRecordingInProgress, BeginProcessing.
using RecordingFn = absl::Status (*)(Database&, const OpContext&, const Uuid&);
template <typename T>
Outcome DoRecordingStep(Call& c, const T& op, RecordingFn fn) {
  Args a;
  const Uuid recording = a.Id(op.recording_id(), "recording_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, recording));
}

Outcome DoStopRecording(Call& c, const wire::StopRecording& op) {
  Args a;
  const StopRecordingRequest req{.recording_id = a.Id(op.recording_id(), "recording_id"),
                                 .actor_id = a.Id(op.actor_id(), "actor_id"),
                                 .size_bytes = op.size_bytes(),
                                 .duration_seconds = op.duration_seconds()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(StopRecording(c.db, c.ctx, req));
}

Outcome DoRecordingReady(Call& c, const wire::RecordingReady& op) {
  Args a;
  const Uuid recording = a.Id(op.recording_id(), "recording_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(RecordingReady(c.db, c.ctx, recording, View(op.storage_url()), op.expires_at()));
}

Outcome DoFailRecording(Call& c, const wire::FailRecording& op) {
  Args a;
  const Uuid recording = a.Id(op.recording_id(), "recording_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(FailRecording(c.db, c.ctx, recording, View(op.error_message())));
}

Outcome DoDeleteRecording(Call& c, const wire::DeleteRecording& op) {
  Args a;
  const Uuid recording = a.Id(op.recording_id(), "recording_id");
  const Uuid actor = a.Id(op.actor_id(), "actor_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(DeleteRecording(c.db, c.ctx, recording, actor));
}

Outcome DoExpiredRecordings(Call& c, const wire::ExpiredRecordings& op) {
  Args a;
  a.Limit(op.limit(), 1000);
  VOX_RETURN_IF_ERROR(a.status());
  auto expired = ExpiredRecordings(c.db, c.ctx.now, op.limit());
  if (!expired.ok()) return expired.status();
  std::vector<RowId> rows;
  for (const ExpiredRecording& e : *expired) {
    rows.push_back(c.db.table(TableId::recordings).FindById(e.id));
  }
  return c.Rows(TableId::recordings, rows);
}

// ---- Call sessions -----------------------------------------------------------------

// CallTelemetry read from the wire; views point into the request.
CallTelemetry ReadTelemetry(Args& a, const wire::CallTelemetry* t) {
  if (t == nullptr) return {};
  return {.rtt_ms = t->rtt_ms(),
          .jitter_ms = t->jitter_ms(),
          .packet_loss_bp = t->packet_loss_bp(),
          .bitrate_kbps = t->bitrate_kbps(),
          .region = OptView(t->region()),
          .transport = a.OptEnum<CallTransport>(EnumId::CallTransport, t->transport(),
                                                "telemetry.transport")};
}

Outcome DoStartCallSession(Call& c, const wire::StartCallSession& op) {
  Args a;
  const Uuid participant = a.Id(op.participant_id(), "participant_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(StartCallSession(c.db, c.ctx, participant));
}

// ConnectCallSession, ReportTelemetry.
using TelemetryFn = absl::Status (*)(Database&, const OpContext&, const Uuid&,
                                     const CallTelemetry&);
template <typename T>
Outcome DoTelemetry(Call& c, const T& op, TelemetryFn fn) {
  Args a;
  const Uuid session = a.Id(op.session_id(), "session_id");
  const CallTelemetry telemetry = ReadTelemetry(a, op.telemetry());
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, session, telemetry));
}

// FailCallSession, DropCallSession.
using FailureFn = absl::Status (*)(Database&, const OpContext&, const Uuid&, CallFailureReason,
                                   std::string_view);
template <typename T>
Outcome DoFailure(Call& c, const T& op, FailureFn fn) {
  Args a;
  const Uuid session = a.Id(op.session_id(), "session_id");
  const auto reason = a.Enum<CallFailureReason>(EnumId::CallFailureReason, op.reason(), "reason");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, session, reason, View(op.detail())));
}

Outcome DoEndCallSession(Call& c, const wire::EndCallSession& op) {
  Args a;
  const Uuid session = a.Id(op.session_id(), "session_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(EndCallSession(c.db, c.ctx, session));
}

Outcome DoGetCallSession(Call& c, const wire::GetCallSession& op) {
  Args a;
  const Uuid session = a.Id(op.session_id(), "session_id");
  VOX_RETURN_IF_ERROR(a.status());
  auto s = GetCallSession(c.db, session);
  if (!s.ok()) return s.status();
  auto status = c.Name(EnumId::CallSessionStatus, s->status);
  auto reason = c.OptName(EnumId::CallFailureReason, s->failure_reason);
  auto detail = s->failure_detail.empty() ? 0 : c.Str(s->failure_detail);
  auto region = c.OptStr(s->region);
  auto transport = c.OptName(EnumId::CallTransport, s->transport);
  return c.Result(wire::Result::CallSessionResult,
                  wire::CreateCallSessionResult(
                      c.fbb, W(s->id), W(s->participant_id), W(s->user_id), W(s->room_id), status,
                      s->started_at, s->connected_at, s->ended_at, reason, detail, s->rtt_ms,
                      s->jitter_ms, s->packet_loss_bp, s->bitrate_kbps, region, transport));
}

}  // namespace

std::optional<Outcome> ExecuteMedia(Call& c, Op type, const void* op) {
  switch (type) {
    case Op::StartRecording:
      return DoStartRecording(c, *As<wire::StartRecording>(op));
    case Op::MarkRecordingInProgress:
      return DoRecordingStep(c, *As<wire::MarkRecordingInProgress>(op), &MarkRecordingInProgress);
    case Op::StopRecording:
      return DoStopRecording(c, *As<wire::StopRecording>(op));
    case Op::BeginProcessing:
      return DoRecordingStep(c, *As<wire::BeginProcessing>(op), &BeginProcessing);
    case Op::RecordingReady:
      return DoRecordingReady(c, *As<wire::RecordingReady>(op));
    case Op::FailRecording:
      return DoFailRecording(c, *As<wire::FailRecording>(op));
    case Op::DeleteRecording:
      return DoDeleteRecording(c, *As<wire::DeleteRecording>(op));
    case Op::ExpiredRecordings:
      return DoExpiredRecordings(c, *As<wire::ExpiredRecordings>(op));
    case Op::StartCallSession:
      return DoStartCallSession(c, *As<wire::StartCallSession>(op));
    case Op::ConnectCallSession:
      return DoTelemetry(c, *As<wire::ConnectCallSession>(op), &ConnectCallSession);
    case Op::ReportTelemetry:
      return DoTelemetry(c, *As<wire::ReportTelemetry>(op), &ReportTelemetry);
    case Op::FailCallSession:
      return DoFailure(c, *As<wire::FailCallSession>(op), &FailCallSession);
    case Op::DropCallSession:
      return DoFailure(c, *As<wire::DropCallSession>(op), &DropCallSession);
    case Op::EndCallSession:
      return DoEndCallSession(c, *As<wire::EndCallSession>(op));
    case Op::GetCallSession:
      return DoGetCallSession(c, *As<wire::GetCallSession>(op));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
