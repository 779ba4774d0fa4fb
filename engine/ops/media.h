// Media operations: a room's recordings and its participants' call sessions.
// Each operation is one atomic transaction: on any error nothing changes.
// Thread-compatible: engine thread only (see Database).
//
// Who may act on a room: a present HOST or CO_HOST of it, or a user whose
// platform role is MODERATOR or above. Request strings are views that must
// outlive the call; an empty optional string means "not given" (stored null).
#ifndef VOXDB_ENGINE_OPS_MEDIA_H_
#define VOXDB_ENGINE_OPS_MEDIA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

// ---- Recordings -------------------------------------------------------------
// The seed's Recording Flow: the host starts a recording (STARTED), the
// recorder reports it running (IN_PROGRESS), the host stops it (STOPPED), a
// background job processes it (PROCESSING) and publishes it (READY).
//
//   operation                 from                          to
//   StartRecording            -                             STARTED
//   MarkRecordingInProgress   STARTED                       IN_PROGRESS
//   StopRecording             STARTED, IN_PROGRESS          STOPPED
//   BeginProcessing           STOPPED                       PROCESSING
//                             FAILED (a retry)              PROCESSING, retry_count + 1
//   RecordingReady            PROCESSING                    READY
//   FailRecording             STARTED, IN_PROGRESS,         FAILED
//                             PROCESSING
//   DeleteRecording           any but STARTED, IN_PROGRESS  (soft-deleted)
//
// Any other step, or any step on a soft-deleted recording, is
// FailedPrecondition: "recording '<storage_key>' is READY; cannot stop".
// Audited: RECORDING_STARTED, _STOPPED, _READY, _FAILED, _DELETED, each with
// metadata {"recording_id": ...}.

struct StartRecordingRequest {
  Uuid room_id;
  Uuid actor_id;                 // becomes the recording's owner
  std::string_view storage_key;  // required; unique over all recordings
  std::string_view storage_bucket;
  std::string_view filename;
  std::string_view codec;
  std::string_view resolution;
  std::optional<int32_t> fps;
  std::optional<int32_t> bitrate;
  bool is_public = false;
};

struct StartRecordingResult {
  Uuid recording_id;
};

// Starts recording a room: the room must be LIVE, not deleted, recordable,
// and not already being recorded (no STARTED or IN_PROGRESS recording).
// Errors: NotFound (room, actor), PermissionDenied (actor may not act on the
// room), FailedPrecondition (room state, a recording already running),
// AlreadyExists (storage_key taken), InvalidArgument (empty key, bad values).
absl::StatusOr<StartRecordingResult> StartRecording(Database& db, const OpContext& ctx,
                                                    const StartRecordingRequest& req);

// The recorder reports that capture is running: STARTED -> IN_PROGRESS.
absl::Status MarkRecordingInProgress(Database& db, const OpContext& ctx, const Uuid& recording);

struct StopRecordingRequest {
  Uuid recording_id;
  Uuid actor_id;  // the recording's owner, or a user who may act on its room
  int64_t size_bytes = 0;
  int32_t duration_seconds = 0;
};

// Stops capture: STARTED/IN_PROGRESS -> STOPPED, with stopped_at = now and
// the final size and duration. Errors: NotFound, PermissionDenied,
// FailedPrecondition, InvalidArgument (negative size or duration).
absl::Status StopRecording(Database& db, const OpContext& ctx, const StopRecordingRequest& req);

// Background job: starts processing a STOPPED recording, or retries a FAILED
// one (retry_count + 1, error_message cleared).
absl::Status BeginProcessing(Database& db, const OpContext& ctx, const Uuid& recording);

// Background job: publishes a processed recording at `storage_url`
// (required), optionally to be deleted at `expires_at` (must be after now).
absl::Status RecordingReady(Database& db, const OpContext& ctx, const Uuid& recording,
                            std::string_view storage_url,
                            std::optional<Timestamp> expires_at = std::nullopt);

// Marks a recording FAILED with `error_message` (required). A recording that
// was still capturing also gets stopped_at = now.
absl::Status FailRecording(Database& db, const OpContext& ctx, const Uuid& recording,
                           std::string_view error_message);

// Soft-deletes a recording (deleted_at = now). `actor` must be its owner or
// MODERATOR+. Refused (FailedPrecondition) while it is still capturing.
absl::Status DeleteRecording(Database& db, const OpContext& ctx, const Uuid& recording,
                             const Uuid& actor);

// Retention: soft-deletes up to `limit` recordings whose expires_at <= now,
// audited RECORDING_DELETED with {"reason":"expired"}. Recordings still
// capturing are left alone. Returns how many were deleted.
absl::StatusOr<int64_t> DeleteExpiredRecordings(Database& db, const OpContext& ctx,
                                                size_t limit = SIZE_MAX);

struct ExpiredRecording {
  Uuid id;
  Uuid room_id;
  Uuid owner_id;
  std::string storage_key;
  std::string storage_bucket;  // empty when null
  Timestamp expires_at = 0;
};

// The seed's cleanup query (WORKLOAD R5): recordings with expires_at < now
// and not deleted, soonest-expired first, at most `limit` (> 0).
absl::StatusOr<std::vector<ExpiredRecording>> ExpiredRecordings(const Database& db, Timestamp now,
                                                                size_t limit);

// ---- Call sessions ----------------------------------------------------------
// One session per participant connection:
//
//   operation            from         to
//   StartCallSession     -            CONNECTING
//   ConnectCallSession   CONNECTING   CONNECTED   (audit CALL_CONNECTED)
//   FailCallSession      CONNECTING   FAILED      (audit CALL_FAILED)
//   DropCallSession      CONNECTED    DROPPED     (audit CALL_FAILED, {"dropped":true})
//   EndCallSession       CONNECTED    ENDED       (audit CALL_ENDED)
//
// FAILED, DROPPED and ENDED set ended_at and are final. Any other step is
// FailedPrecondition: "call session <id> is ENDED; cannot connect".

// Network measurements; only the fields given are written.
struct CallTelemetry {
  std::optional<int32_t> rtt_ms;
  std::optional<int32_t> jitter_ms;
  std::optional<int32_t> packet_loss_bp;  // basis points, 0..10000
  std::optional<int32_t> bitrate_kbps;
  std::optional<std::string_view> region;
  std::optional<CallTransport> transport;
};

// Opens a CONNECTING session for a present participant (left_at null); its
// user and room are the participant's. Errors: NotFound, FailedPrecondition
// (the participant has left), PermissionDenied (their account is not ACTIVE).
absl::StatusOr<Uuid> StartCallSession(Database& db, const OpContext& ctx, const Uuid& participant);

// CONNECTING -> CONNECTED, connected_at = now, with the first telemetry.
absl::Status ConnectCallSession(Database& db, const OpContext& ctx, const Uuid& session,
                                const CallTelemetry& telemetry = {});

// Updates the telemetry of a CONNECTING or CONNECTED session.
// Errors: NotFound, FailedPrecondition, InvalidArgument (out of range).
absl::Status ReportTelemetry(Database& db, const OpContext& ctx, const Uuid& session,
                             const CallTelemetry& telemetry);

// CONNECTING -> FAILED: the connection was never established.
absl::Status FailCallSession(Database& db, const OpContext& ctx, const Uuid& session,
                             CallFailureReason reason, std::string_view detail = {});

// CONNECTED -> DROPPED: an established connection was lost.
absl::Status DropCallSession(Database& db, const OpContext& ctx, const Uuid& session,
                             CallFailureReason reason, std::string_view detail = {});

// CONNECTED -> ENDED: the participant hung up normally.
absl::Status EndCallSession(Database& db, const OpContext& ctx, const Uuid& session);

struct CallSessionInfo {
  Uuid id;
  Uuid participant_id;
  Uuid user_id;
  Uuid room_id;
  CallSessionStatus status = CallSessionStatus::CONNECTING;
  Timestamp started_at = 0;
  std::optional<Timestamp> connected_at;
  std::optional<Timestamp> ended_at;
  std::optional<CallFailureReason> failure_reason;
  std::string failure_detail;  // empty when null
  std::optional<int32_t> rtt_ms;
  std::optional<int32_t> jitter_ms;
  std::optional<int32_t> packet_loss_bp;
  std::optional<int32_t> bitrate_kbps;
  std::optional<std::string> region;
  std::optional<CallTransport> transport;
};

// A session's status, times and telemetry. NotFound if there is none.
absl::StatusOr<CallSessionInfo> GetCallSession(const Database& db, const Uuid& session);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_MEDIA_H_
