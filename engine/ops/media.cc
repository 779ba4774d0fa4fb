#include "engine/ops/media.h"

#include <initializer_list>
#include <string>

#include "engine/internal/op_util.h"
#include "engine/internal/room_util.h"

namespace vox {
namespace {

using internal::Audit;
using internal::RoomName;
using internal::UserName;

// A value for a nullable string column: null when empty.
Value StringOrNull(std::string_view s) { return s.empty() ? Value() : Value(s); }

template <typename T>
Value OptionalOrNull(const std::optional<T>& v) {
  return v.has_value() ? Value(*v) : Value();
}

template <typename T>
std::optional<T> OptionalInt(const Table& t, RowId r, ColumnId c) {
  if (t.IsNull(r, c)) return std::nullopt;
  return static_cast<T>(t.GetInt(r, c));
}

bool IsModeratorOrAbove(const Database& db, RowId user) {
  return db.table(TableId::users).GetEnum<UserRole>(user, users::role) >= UserRole::MODERATOR;
}

// Whether `user` is a present HOST or CO_HOST of `room`.
bool IsPresentHost(const Database& db, RowId user, RowId room) {
  const RowId p = internal::FindPresent(db, room, user);
  return p != kNoRow && db.table(TableId::room_participants)
                                .GetEnum<ParticipantRole>(p, room_participants::role) !=
                            ParticipantRole::PARTICIPANT;
}

// OK if `user` may act on `room`: a present host or co-host, or MODERATOR+.
absl::Status RequireRoomActor(const Database& db, RowId user, RowId room, std::string_view verb) {
  if (IsPresentHost(db, user, room) || IsModeratorOrAbove(db, user)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat(UserName(db, user), " is not a host of ", RoomName(db, room), "; cannot ", verb));
}

// ---- Recordings ---------------------------------------------------------------

const Table& Recordings(const Database& db) { return db.table(TableId::recordings); }

RecordingStatus StatusOf(const Database& db, RowId rec) {
  return Recordings(db).GetEnum<RecordingStatus>(rec, recordings::status);
}

bool IsCapturing(RecordingStatus s) {
  return s == RecordingStatus::STARTED || s == RecordingStatus::IN_PROGRESS;
}

std::string RecordingName(const Database& db, RowId rec) {
  return StrCat("recording '", Recordings(db).GetString(rec, recordings::storage_key), "'");
}

absl::Status RequireRecordingStatus(const Database& db, RowId rec,
                                    std::initializer_list<RecordingStatus> allowed,
                                    std::string_view verb) {
  const RecordingStatus s = StatusOf(db, rec);
  for (RecordingStatus a : allowed) {
    if (a == s) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(StrCat(
      RecordingName(db, rec), " is ", EnumName(EnumId::RecordingStatus, s), "; cannot ", verb));
}

// Audit metadata naming the recording, plus `extra` members (",\"k\":v...").
std::string RecordingMetadata(const Database& db, RowId rec, std::string_view extra = {}) {
  return StrCat("{\"recording_id\":\"", FormatUuid(Recordings(db).id(rec)), "\"", extra, "}");
}

void AuditRecording(Txn& txn, const OpContext& ctx, AuditAction action, RowId actor, RowId rec,
                    std::string_view extra = {}) {
  const Table& recs = Recordings(txn.db());
  const RowId owner = recs.GetRef(rec, recordings::owner_id);
  Audit(txn, ctx, action, actor, recs.GetRef(rec, recordings::room_id),
        actor == owner ? kNoRow : owner, RecordingMetadata(txn.db(), rec, extra));
}

// Runs `fn(txn, rec)` as one transaction on a non-deleted recording whose
// status is one of `allowed`.
template <typename Fn>
absl::Status RecordingStep(Database& db, const OpContext& ctx, const Uuid& id,
                           std::initializer_list<RecordingStatus> allowed, std::string_view verb,
                           Fn&& fn) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId rec,
                         internal::ResolveActive(db, TableId::recordings, id, "recording"));
    VOX_RETURN_IF_ERROR(RequireRecordingStatus(db, rec, allowed, verb));
    return fn(txn, rec);
  });
}

absl::Status CheckNotRecording(const Database& db, RowId room) {
  const Table& recs = Recordings(db);
  RowId running = kNoRow;
  db.range(IndexNo("recordings_by_room")).ScanPrefix({static_cast<int64_t>(room)}, [&](RowId r) {
    if (IsCapturing(StatusOf(db, r)) && recs.IsNull(r, recordings::deleted_at)) running = r;
    return running == kNoRow;
  });
  if (running == kNoRow) return absl::OkStatus();
  return absl::FailedPreconditionError(
      StrCat(RoomName(db, room), " is already being recorded (", RecordingName(db, running), ")"));
}

absl::Status CheckRecordable(const Database& db, RowId room) {
  const Table& rooms = db.table(TableId::rooms);
  const auto status = rooms.GetEnum<RoomStatus>(room, rooms::status);
  if (status != RoomStatus::LIVE) {
    return absl::FailedPreconditionError(StrCat(
        RoomName(db, room), " is ", EnumName(EnumId::RoomStatus, status), "; cannot record"));
  }
  if (!rooms.GetBool(room, rooms::is_recordable)) {
    return absl::FailedPreconditionError(
        StrCat(RoomName(db, room), " is not recordable; cannot record"));
  }
  return CheckNotRecording(db, room);
}

absl::Status CheckStorageKey(const Database& db, std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("recording storage_key is required");
  const Value probe[] = {key};
  if (db.hash(IndexNo("recordings_storage_key")).Find(probe) != kNoRow) {
    return absl::AlreadyExistsError(
        StrCat("a recording with storage_key '", key, "' already exists"));
  }
  return absl::OkStatus();
}

// Visits non-deleted recordings with expires_at <= `until`, soonest first,
// while fn(row) returns true.
template <typename Fn>
void ScanExpiring(const Database& db, Timestamp until, Fn&& fn) {
  const Table& recs = Recordings(db);
  db.range(IndexNo("recordings_expiry")).ScanPrefix({}, [&](RowId r) {
    return recs.GetTime(r, recordings::expires_at) <= until && fn(r);
  });
}

// ---- Call sessions ----------------------------------------------------------

const Table& Sessions(const Database& db) { return db.table(TableId::call_sessions); }

absl::Status RequireSessionStatus(const Database& db, RowId s,
                                  std::initializer_list<CallSessionStatus> allowed,
                                  std::string_view verb) {
  const auto status = Sessions(db).GetEnum<CallSessionStatus>(s, call_sessions::status);
  for (CallSessionStatus a : allowed) {
    if (a == status) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(StrCat("call session ", FormatUuid(Sessions(db).id(s)),
                                              " is ", EnumName(EnumId::CallSessionStatus, status),
                                              "; cannot ", verb));
}

template <typename Fn>
absl::Status SessionStep(Database& db, const OpContext& ctx, const Uuid& id,
                         std::initializer_list<CallSessionStatus> allowed, std::string_view verb,
                         Fn&& fn) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId s,
                         internal::Resolve(db, TableId::call_sessions, id, "call session"));
    VOX_RETURN_IF_ERROR(RequireSessionStatus(db, s, allowed, verb));
    fn(txn, s);
    return absl::OkStatus();
  });
}

void WriteTelemetry(Txn& txn, RowId s, const CallTelemetry& t) {
  constexpr TableId kT = TableId::call_sessions;
  if (t.rtt_ms) txn.Set(kT, s, call_sessions::rtt_ms, *t.rtt_ms);
  if (t.jitter_ms) txn.Set(kT, s, call_sessions::jitter_ms, *t.jitter_ms);
  if (t.packet_loss_bp) txn.Set(kT, s, call_sessions::packet_loss_bp, *t.packet_loss_bp);
  if (t.bitrate_kbps) txn.Set(kT, s, call_sessions::bitrate_kbps, *t.bitrate_kbps);
  if (t.region) txn.Set(kT, s, call_sessions::region, StringOrNull(*t.region));
  if (t.transport) txn.Set(kT, s, call_sessions::transport, *t.transport);
}

// Moves a session to a final status.
void Finish(Txn& txn, RowId s, CallSessionStatus to) {
  txn.Set(TableId::call_sessions, s, call_sessions::status, to);
  txn.Set(TableId::call_sessions, s, call_sessions::ended_at, txn.now());
}

void FinishFailed(Txn& txn, RowId s, CallSessionStatus to, CallFailureReason reason,
                  std::string_view detail) {
  Finish(txn, s, to);
  txn.Set(TableId::call_sessions, s, call_sessions::failure_reason, reason);
  txn.Set(TableId::call_sessions, s, call_sessions::failure_detail, StringOrNull(detail));
}

void AuditSession(Txn& txn, const OpContext& ctx, AuditAction action, RowId s,
                  std::string_view extra = {}) {
  const Table& sessions = Sessions(txn.db());
  Audit(txn, ctx, action, sessions.GetRef(s, call_sessions::user_id),
        sessions.GetRef(s, call_sessions::room_id), kNoRow,
        StrCat("{\"call_session_id\":\"", FormatUuid(sessions.id(s)), "\"", extra, "}"));
}

std::string ReasonMember(CallFailureReason reason) {
  return StrCat(",\"reason\":\"", EnumName(EnumId::CallFailureReason, reason), "\"");
}

}  // namespace

// ---- Recordings -------------------------------------------------------------

absl::StatusOr<StartRecordingResult> StartRecording(Database& db, const OpContext& ctx,
                                                    const StartRecordingRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<StartRecordingResult> {
    VOX_ASSIGN_OR_RETURN(RowId actor, internal::ResolveActingUser(db, req.actor_id));
    VOX_ASSIGN_OR_RETURN(RowId room,
                         internal::ResolveActive(db, TableId::rooms, req.room_id, "room"));
    VOX_RETURN_IF_ERROR(RequireRoomActor(db, actor, room, "record"));
    VOX_RETURN_IF_ERROR(CheckRecordable(db, room));
    VOX_RETURN_IF_ERROR(CheckStorageKey(db, req.storage_key));
    const RowId rec = txn.Insert(TableId::recordings,
                                 {{recordings::room_id, room},
                                  {recordings::owner_id, actor},
                                  {recordings::storage_key, req.storage_key},
                                  {recordings::storage_bucket, StringOrNull(req.storage_bucket)},
                                  {recordings::filename, StringOrNull(req.filename)},
                                  {recordings::codec, StringOrNull(req.codec)},
                                  {recordings::resolution, StringOrNull(req.resolution)},
                                  {recordings::fps, OptionalOrNull(req.fps)},
                                  {recordings::bitrate, OptionalOrNull(req.bitrate)},
                                  {recordings::is_public, req.is_public},
                                  {recordings::status, RecordingStatus::STARTED}});
    if (rec == kNoRow) return txn.status();
    AuditRecording(txn, ctx, AuditAction::RECORDING_STARTED, actor, rec);
    return StartRecordingResult{Recordings(db).id(rec)};
  });
}

absl::Status MarkRecordingInProgress(Database& db, const OpContext& ctx, const Uuid& recording) {
  return RecordingStep(
      db, ctx, recording, {RecordingStatus::STARTED}, "mark in progress", [&](Txn& txn, RowId rec) {
        txn.Set(TableId::recordings, rec, recordings::status, RecordingStatus::IN_PROGRESS);
        return absl::OkStatus();
      });
}

absl::Status StopRecording(Database& db, const OpContext& ctx, const StopRecordingRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId actor, internal::ResolveActingUser(db, req.actor_id));
    VOX_ASSIGN_OR_RETURN(
        RowId rec, internal::ResolveActive(db, TableId::recordings, req.recording_id, "recording"));
    const Table& recs = Recordings(db);
    if (recs.GetRef(rec, recordings::owner_id) != actor) {
      VOX_RETURN_IF_ERROR(
          RequireRoomActor(db, actor, recs.GetRef(rec, recordings::room_id), "stop recording"));
    }
    VOX_RETURN_IF_ERROR(RequireRecordingStatus(
        db, rec, {RecordingStatus::STARTED, RecordingStatus::IN_PROGRESS}, "stop"));
    constexpr TableId kT = TableId::recordings;
    txn.Set(kT, rec, recordings::size_bytes, req.size_bytes);
    txn.Set(kT, rec, recordings::duration_seconds, req.duration_seconds);
    txn.Set(kT, rec, recordings::status, RecordingStatus::STOPPED);
    txn.Set(kT, rec, recordings::stopped_at, ctx.now);
    AuditRecording(
        txn, ctx, AuditAction::RECORDING_STOPPED, actor, rec,
        StrCat(",\"size_bytes\":", req.size_bytes, ",\"duration_seconds\":", req.duration_seconds));
    return absl::OkStatus();
  });
}

absl::Status BeginProcessing(Database& db, const OpContext& ctx, const Uuid& recording) {
  return RecordingStep(db, ctx, recording, {RecordingStatus::STOPPED, RecordingStatus::FAILED},
                       "begin processing", [&](Txn& txn, RowId rec) {
                         constexpr TableId kT = TableId::recordings;
                         if (StatusOf(db, rec) == RecordingStatus::FAILED) {
                           const int64_t retries =
                               Recordings(db).GetInt(rec, recordings::retry_count);
                           txn.Set(kT, rec, recordings::retry_count, retries + 1);
                           txn.Set(kT, rec, recordings::error_message, nullptr);
                         }
                         txn.Set(kT, rec, recordings::status, RecordingStatus::PROCESSING);
                         return absl::OkStatus();
                       });
}

absl::Status RecordingReady(Database& db, const OpContext& ctx, const Uuid& recording,
                            std::string_view storage_url, std::optional<Timestamp> expires_at) {
  if (storage_url.empty()) return absl::InvalidArgumentError("recording storage_url is required");
  if (expires_at && *expires_at <= ctx.now) {
    return absl::InvalidArgumentError(
        StrCat("recording expires_at ", FormatTimestamp(*expires_at), " is not in the future"));
  }
  return RecordingStep(db, ctx, recording, {RecordingStatus::PROCESSING}, "mark ready",
                       [&](Txn& txn, RowId rec) {
                         constexpr TableId kT = TableId::recordings;
                         txn.Set(kT, rec, recordings::storage_url, storage_url);
                         if (expires_at) txn.Set(kT, rec, recordings::expires_at, *expires_at);
                         txn.Set(kT, rec, recordings::status, RecordingStatus::READY);
                         AuditRecording(txn, ctx, AuditAction::RECORDING_READY, kNoRow, rec);
                         return absl::OkStatus();
                       });
}

absl::Status FailRecording(Database& db, const OpContext& ctx, const Uuid& recording,
                           std::string_view error_message) {
  if (error_message.empty()) {
    return absl::InvalidArgumentError("recording error_message is required");
  }
  return RecordingStep(
      db, ctx, recording,
      {RecordingStatus::STARTED, RecordingStatus::IN_PROGRESS, RecordingStatus::PROCESSING}, "fail",
      [&](Txn& txn, RowId rec) {
        constexpr TableId kT = TableId::recordings;
        const RecordingStatus from = StatusOf(db, rec);
        if (Recordings(db).IsNull(rec, recordings::stopped_at)) {
          txn.Set(kT, rec, recordings::stopped_at, ctx.now);
        }
        txn.Set(kT, rec, recordings::error_message, error_message);
        txn.Set(kT, rec, recordings::status, RecordingStatus::FAILED);
        AuditRecording(txn, ctx, AuditAction::RECORDING_FAILED, kNoRow, rec,
                       StrCat(",\"from\":\"", EnumName(EnumId::RecordingStatus, from), "\""));
        return absl::OkStatus();
      });
}

absl::Status DeleteRecording(Database& db, const OpContext& ctx, const Uuid& recording,
                             const Uuid& actor_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId actor, internal::ResolveActingUser(db, actor_id));
    VOX_ASSIGN_OR_RETURN(RowId rec,
                         internal::ResolveActive(db, TableId::recordings, recording, "recording"));
    if (Recordings(db).GetRef(rec, recordings::owner_id) != actor &&
        !IsModeratorOrAbove(db, actor)) {
      return absl::PermissionDeniedError(
          StrCat(UserName(db, actor), " does not own ", RecordingName(db, rec), "; cannot delete"));
    }
    VOX_RETURN_IF_ERROR(
        RequireRecordingStatus(db, rec,
                               {RecordingStatus::STOPPED, RecordingStatus::FAILED,
                                RecordingStatus::PROCESSING, RecordingStatus::READY},
                               "delete"));
    txn.Set(TableId::recordings, rec, recordings::deleted_at, ctx.now);
    AuditRecording(txn, ctx, AuditAction::RECORDING_DELETED, actor, rec);
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> DeleteExpiredRecordings(Database& db, const OpContext& ctx, size_t limit) {
  std::vector<RowId> due;
  ScanExpiring(db, ctx.now, [&](RowId r) {
    if (!IsCapturing(StatusOf(db, r))) due.push_back(r);
    return due.size() < limit;
  });
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<int64_t> {
    for (RowId rec : due) {
      txn.Set(TableId::recordings, rec, recordings::deleted_at, ctx.now);
      AuditRecording(txn, ctx, AuditAction::RECORDING_DELETED, kNoRow, rec,
                     ",\"reason\":\"expired\"");
    }
    return static_cast<int64_t>(due.size());
  });
}

absl::StatusOr<std::vector<ExpiredRecording>> ExpiredRecordings(const Database& db, Timestamp now,
                                                                size_t limit) {
  if (limit == 0) return absl::InvalidArgumentError("limit must be at least 1");
  const Table& recs = Recordings(db);
  const Table& rooms = db.table(TableId::rooms);
  const Table& users = db.table(TableId::users);
  std::vector<ExpiredRecording> out;
  // expires_at < now: stop before the first recording expiring exactly now.
  ScanExpiring(db, now - 1, [&](RowId r) {
    out.push_back(
        {.id = recs.id(r),
         .room_id = rooms.id(recs.GetRef(r, recordings::room_id)),
         .owner_id = users.id(recs.GetRef(r, recordings::owner_id)),
         .storage_key = std::string(recs.GetString(r, recordings::storage_key)),
         .storage_bucket = recs.IsNull(r, recordings::storage_bucket)
                               ? std::string()
                               : std::string(recs.GetString(r, recordings::storage_bucket)),
         .expires_at = recs.GetTime(r, recordings::expires_at)});
    return out.size() < limit;
  });
  return out;
}

// ---- Call sessions ----------------------------------------------------------

absl::StatusOr<Uuid> StartCallSession(Database& db, const OpContext& ctx,
                                      const Uuid& participant_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(
        RowId p, internal::Resolve(db, TableId::room_participants, participant_id, "participant"));
    const Table& parts = db.table(TableId::room_participants);
    const RowId user = parts.GetRef(p, room_participants::user_id);
    const RowId room = parts.GetRef(p, room_participants::room_id);
    if (!parts.IsNull(p, room_participants::left_at)) {
      return absl::FailedPreconditionError(StrCat(
          UserName(db, user), " has left ", RoomName(db, room), "; cannot start a call session"));
    }
    VOX_RETURN_IF_ERROR(internal::CheckAccountActive(db, user, "start a call session"));
    const RowId s = txn.Insert(TableId::call_sessions, {{call_sessions::participant_id, p},
                                                        {call_sessions::user_id, user},
                                                        {call_sessions::room_id, room}});
    if (s == kNoRow) return txn.status();
    return Sessions(db).id(s);
  });
}

absl::Status ConnectCallSession(Database& db, const OpContext& ctx, const Uuid& session,
                                const CallTelemetry& telemetry) {
  return SessionStep(
      db, ctx, session, {CallSessionStatus::CONNECTING}, "connect", [&](Txn& txn, RowId s) {
        txn.Set(TableId::call_sessions, s, call_sessions::status, CallSessionStatus::CONNECTED);
        txn.Set(TableId::call_sessions, s, call_sessions::connected_at, ctx.now);
        WriteTelemetry(txn, s, telemetry);
        AuditSession(txn, ctx, AuditAction::CALL_CONNECTED, s);
      });
}

absl::Status ReportTelemetry(Database& db, const OpContext& ctx, const Uuid& session,
                             const CallTelemetry& telemetry) {
  return SessionStep(
      db, ctx, session, {CallSessionStatus::CONNECTING, CallSessionStatus::CONNECTED},
      "report telemetry", [&](Txn& txn, RowId s) { WriteTelemetry(txn, s, telemetry); });
}

absl::Status FailCallSession(Database& db, const OpContext& ctx, const Uuid& session,
                             CallFailureReason reason, std::string_view detail) {
  return SessionStep(db, ctx, session, {CallSessionStatus::CONNECTING}, "fail",
                     [&](Txn& txn, RowId s) {
                       FinishFailed(txn, s, CallSessionStatus::FAILED, reason, detail);
                       AuditSession(txn, ctx, AuditAction::CALL_FAILED, s, ReasonMember(reason));
                     });
}

absl::Status DropCallSession(Database& db, const OpContext& ctx, const Uuid& session,
                             CallFailureReason reason, std::string_view detail) {
  return SessionStep(db, ctx, session, {CallSessionStatus::CONNECTED}, "drop",
                     [&](Txn& txn, RowId s) {
                       FinishFailed(txn, s, CallSessionStatus::DROPPED, reason, detail);
                       AuditSession(txn, ctx, AuditAction::CALL_FAILED, s,
                                    StrCat(ReasonMember(reason), ",\"dropped\":true"));
                     });
}

absl::Status EndCallSession(Database& db, const OpContext& ctx, const Uuid& session) {
  return SessionStep(db, ctx, session, {CallSessionStatus::CONNECTED}, "end",
                     [&](Txn& txn, RowId s) {
                       Finish(txn, s, CallSessionStatus::ENDED);
                       AuditSession(txn, ctx, AuditAction::CALL_ENDED, s);
                     });
}

absl::StatusOr<CallSessionInfo> GetCallSession(const Database& db, const Uuid& session) {
  VOX_ASSIGN_OR_RETURN(RowId s,
                       internal::Resolve(db, TableId::call_sessions, session, "call session"));
  const Table& t = Sessions(db);
  CallSessionInfo info;
  info.id = t.id(s);
  info.participant_id =
      db.table(TableId::room_participants).id(t.GetRef(s, call_sessions::participant_id));
  info.user_id = db.table(TableId::users).id(t.GetRef(s, call_sessions::user_id));
  info.room_id = db.table(TableId::rooms).id(t.GetRef(s, call_sessions::room_id));
  info.status = t.GetEnum<CallSessionStatus>(s, call_sessions::status);
  info.started_at = t.GetTime(s, call_sessions::started_at);
  info.connected_at = OptionalInt<Timestamp>(t, s, call_sessions::connected_at);
  info.ended_at = OptionalInt<Timestamp>(t, s, call_sessions::ended_at);
  info.failure_reason = OptionalInt<CallFailureReason>(t, s, call_sessions::failure_reason);
  if (!t.IsNull(s, call_sessions::failure_detail)) {
    info.failure_detail = std::string(t.GetString(s, call_sessions::failure_detail));
  }
  info.rtt_ms = OptionalInt<int32_t>(t, s, call_sessions::rtt_ms);
  info.jitter_ms = OptionalInt<int32_t>(t, s, call_sessions::jitter_ms);
  info.packet_loss_bp = OptionalInt<int32_t>(t, s, call_sessions::packet_loss_bp);
  info.bitrate_kbps = OptionalInt<int32_t>(t, s, call_sessions::bitrate_kbps);
  if (!t.IsNull(s, call_sessions::region)) {
    info.region = std::string(t.GetString(s, call_sessions::region));
  }
  info.transport = OptionalInt<CallTransport>(t, s, call_sessions::transport);
  return info;
}

}  // namespace vox
