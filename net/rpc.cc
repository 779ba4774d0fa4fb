#include "net/rpc.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox::rpc {
namespace {

namespace fb = flatbuffers;
using StrOffset = fb::Offset<fb::String>;

// ---- Encoding ----

// A wire uuid for a Create* call, null when the id is absent. Use as
// `W(id)`: the temporary lives until the end of the full expression.
class WireId {
 public:
  WireId(const Uuid& u) : value_(u.hi, u.lo), set_(true) {}     // NOLINT: implicit
  WireId(const std::optional<Uuid>& u) : set_(u.has_value()) {  // NOLINT: implicit
    if (u) value_ = wire::Uuid(u->hi, u->lo);
  }
  const wire::Uuid* get() const { return set_ ? &value_ : nullptr; }

 private:
  wire::Uuid value_;
  bool set_;
};
const wire::Uuid* W(const WireId& u) { return u.get(); }

// An empty string is sent absent (see rpc.h).
StrOffset Str(Builder& b, const std::string& s) { return s.empty() ? 0 : b.CreateString(s); }
StrOffset OptStr(Builder& b, const std::optional<std::string>& s) {
  return s ? b.CreateString(*s) : 0;
}
fb::Offset<fb::Vector<StrOffset>> StrVec(Builder& b, const std::vector<std::string>& v) {
  std::vector<StrOffset> out;
  for (const auto& s : v) out.push_back(b.CreateString(s));
  return b.CreateVector(out);
}

// A search's list filter: empty is sent absent.
fb::Offset<fb::Vector<StrOffset>> Names(Builder& b, const std::vector<std::string>& v) {
  return v.empty() ? 0 : StrVec(b, v);
}
// A search range: sent absent when both ends are open.
fb::Offset<wire::TimeRange> Times(Builder& b, const TimeRange& r) {
  return r.from || r.to ? wire::CreateTimeRange(b, r.from, r.to) : 0;
}
fb::Offset<wire::IntRange> Ints(Builder& b, const IntRange& r) {
  return r.min || r.max ? wire::CreateIntRange(b, r.min, r.max) : 0;
}

template <typename T>
Encoded Enc(wire::Op type, fb::Offset<T> op) {
  return {static_cast<uint8_t>(type), op.o};
}

fb::Offset<wire::RoomSettings> EncodeSettings(Builder& b, const RoomSettings& s) {
  const auto title = OptStr(b, s.title), description = OptStr(b, s.description),
             language = OptStr(b, s.language);
  const auto tags = s.tags ? StrVec(b, *s.tags) : 0;
  return wire::CreateRoomSettings(b, title, description, language, s.scheduled_start,
                                  s.scheduled_end, s.max_participants, s.is_public, s.is_recordable,
                                  s.require_auth, s.invite_only, s.mute_on_join,
                                  s.hand_raise_allowed, tags, W(s.category_id));
}

fb::Offset<wire::CallTelemetry> EncodeTelemetry(Builder& b, const CallTelemetry& t) {
  const auto region = OptStr(b, t.region), transport = OptStr(b, t.transport);
  return wire::CreateCallTelemetry(b, t.rtt_ms, t.jitter_ms, t.packet_loss_bp, t.bitrate_kbps,
                                   region, transport);
}

fb::Offset<fb::Vector<fb::Offset<wire::FieldValue>>> EncodeFields(
    Builder& b, const std::vector<Field>& values) {
  std::vector<fb::Offset<wire::FieldValue>> out;
  for (const Field& f : values) {
    const auto u = wire::Uuid(f.uuid_value.hi, f.uuid_value.lo);
    out.push_back(wire::CreateFieldValue(
        b, b.CreateString(f.column), static_cast<wire::ValueKind>(f.kind), f.int_value,
        f.kind == Field::Kind::kString ? b.CreateString(f.string_value) : 0,
        f.kind == Field::Kind::kUuid ? &u : nullptr));
  }
  return b.CreateVector(out);
}

// ---- Decoding ----

Uuid U(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }
std::optional<Uuid> OptU(const wire::Uuid* u) {
  return u == nullptr ? std::nullopt : std::optional<Uuid>(U(u));
}
std::string S(const fb::String* s) { return s == nullptr ? std::string() : s->str(); }
template <typename T>
std::optional<T> Opt(const fb::Optional<T>& v) {
  return v ? std::optional<T>(*v) : std::nullopt;
}

// The response's result, or INTERNAL if the server answered another type.
template <typename T>
absl::StatusOr<const T*> ResultAs(const wire::Response& response) {
  const T* r = response.template result_as<T>();
  if (r == nullptr)
    return absl::InternalError("the server answered with an unexpected result type");
  return r;
}

absl::Status Done(const wire::Response& response) {
  return ResultAs<wire::Empty>(response).status();
}

absl::StatusOr<Uuid> DecodeId(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::IdResult>(response));
  return U(r->id());
}

absl::StatusOr<int64_t> DecodeCount(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::CountResult>(response));
  return r->count();
}

absl::StatusOr<Rows> DecodeRows(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::RowsResult>(response));
  Rows out;
  if (r->rows() != nullptr) {
    for (const auto* row : *r->rows()) out.rows.push_back(row->str());
  }
  out.next = OptU(r->next());
  return out;
}

absl::StatusOr<std::string> OneRow(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(Rows rows, DecodeRows(response));
  if (rows.rows.size() != 1) return absl::InternalError("the server answered with no row");
  return std::move(rows.rows[0]);
}

absl::StatusOr<Transfer> DecodeTransfer(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::TransferResult>(response));
  return Transfer{U(r->transfer_id()), OptU(r->fee_transfer_id()), r->fee(), r->already_done()};
}

absl::StatusOr<Report> DecodeReport(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::ReportResult>(response));
  Report out{
      .snapshot_lsn = r->snapshot_lsn(), .rows_scanned = r->rows_scanned(), .micros = r->micros()};
  if (r->tables() == nullptr) return out;
  for (const wire::ReportTable* t : *r->tables()) {
    ReportTable& table = out.tables.emplace_back();
    table.name = S(t->name());
    table.dimension = S(t->dimension());
    if (t->columns() != nullptr) {
      for (const auto* c : *t->columns()) table.columns.push_back(c->str());
    }
    if (t->buckets() != nullptr) table.buckets.assign(t->buckets()->begin(), t->buckets()->end());
    if (t->rows() == nullptr) continue;
    table.rows.reserve(t->rows()->size());
    for (const wire::ReportRow* row : *t->rows()) {
      ReportRow& out_row = table.rows.emplace_back();
      out_row.bucket_start = row->bucket_start();
      out_row.key = S(row->key());
      if (row->values() != nullptr) {
        out_row.values.assign(row->values()->begin(), row->values()->end());
      }
      if (out_row.values.size() != table.columns.size()) {
        return absl::InternalError(StrCat("report table '", table.name, "': a row has ",
                                          out_row.values.size(), " values for ",
                                          table.columns.size(), " columns"));
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<PresentParticipant>> DecodeParticipants(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::ParticipantsResult>(response));
  std::vector<PresentParticipant> out;
  if (r->participants() != nullptr) {
    for (const auto* p : *r->participants()) {
      out.push_back({U(p->participant_id()), U(p->user_id()), S(p->role()), p->muted(),
                     p->hand_raised(), p->speaking(), p->joined_at(), Opt(p->hand_raised_at()),
                     p->screen_sharing()});
    }
  }
  return out;
}

absl::StatusOr<SearchPage> DecodeSearchPage(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::SearchResult>(response));
  SearchPage out;
  if (r->rows() != nullptr) {
    out.rows.reserve(r->rows()->size());
    for (const auto* row : *r->rows()) out.rows.push_back(row->str());
  }
  if (r->next() != nullptr) out.next = r->next()->str();
  out.plan = S(r->plan());
  return out;
}

absl::StatusOr<WalletBalance> DecodeBalance(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::WalletBalanceResult>(response));
  return WalletBalance{.wallet_id = U(r->wallet_id()),
                       .posted_debits = r->posted_debits(),
                       .posted_credits = r->posted_credits(),
                       .pending_debits = r->pending_debits(),
                       .pending_credits = r->pending_credits(),
                       .balance = r->balance(),
                       .available = r->available(),
                       .is_frozen = r->is_frozen(),
                       .ledger_consistent = r->ledger_consistent()};
}

}  // namespace

// ---- Identity ----

Encoded RegisterUser::Encode(Builder& b) const {
  return Enc(wire::Op::RegisterUser,
             wire::CreateRegisterUser(b, Str(b, username), Str(b, email), Str(b, password_hash),
                                      Str(b, display_name), Str(b, bio), Str(b, avatar_url),
                                      Str(b, locale), Str(b, country), Str(b, timezone)));
}
absl::StatusOr<Registered> RegisterUser::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::RegisterUserResult>(response));
  return Registered{U(r->user_id()), U(r->auth_provider_id()), U(r->wallet_id())};
}

Encoded RecordLogin::Encode(Builder& b) const {
  return Enc(wire::Op::RecordLogin,
             wire::CreateRecordLogin(b, W(user_id), Str(b, identifier), Str(b, provider),
                                     credentials_ok, Str(b, failure_reason)));
}
absl::StatusOr<LoginResult> RecordLogin::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::LoginResult>(response));
  return LoginResult{S(r->outcome()), S(r->account_status())};
}

Encoded Logout::Encode(Builder& b) const {
  return Enc(wire::Op::Logout, wire::CreateLogout(b, W(user_id)));
}
absl::Status Logout::Decode(const wire::Response& response) { return Done(response); }

Encoded UpdateProfile::Encode(Builder& b) const {
  return Enc(
      wire::Op::UpdateProfile,
      wire::CreateUpdateProfile(b, W(user_id), OptStr(b, username), OptStr(b, email),
                                OptStr(b, display_name), OptStr(b, bio), OptStr(b, avatar_url),
                                OptStr(b, locale), OptStr(b, country), OptStr(b, timezone)));
}
absl::Status UpdateProfile::Decode(const wire::Response& response) { return Done(response); }

Encoded VerifyEmail::Encode(Builder& b) const {
  return Enc(wire::Op::VerifyEmail, wire::CreateVerifyEmail(b, W(user_id)));
}
absl::Status VerifyEmail::Decode(const wire::Response& response) { return Done(response); }

Encoded SetAccountStatus::Encode(Builder& b) const {
  return Enc(wire::Op::SetAccountStatus,
             wire::CreateSetAccountStatus(b, W(actor_id), W(user_id), Str(b, status),
                                          Str(b, reason), until));
}
absl::Status SetAccountStatus::Decode(const wire::Response& response) { return Done(response); }

Encoded SetUserRole::Encode(Builder& b) const {
  return Enc(wire::Op::SetUserRole,
             wire::CreateSetUserRole(b, W(actor_id), W(user_id), Str(b, role)));
}
absl::Status SetUserRole::Decode(const wire::Response& response) { return Done(response); }

Encoded LinkAuthProvider::Encode(Builder& b) const {
  return Enc(
      wire::Op::LinkAuthProvider,
      wire::CreateLinkAuthProvider(b, W(user_id), Str(b, provider), Str(b, provider_id),
                                   Str(b, provider_email), Str(b, access_token),
                                   Str(b, refresh_token), Str(b, metadata_json), token_expires_at));
}
absl::StatusOr<Uuid> LinkAuthProvider::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded UnlinkAuthProvider::Encode(Builder& b) const {
  return Enc(wire::Op::UnlinkAuthProvider,
             wire::CreateUnlinkAuthProvider(b, W(user_id), W(auth_provider_id)));
}
absl::Status UnlinkAuthProvider::Decode(const wire::Response& response) { return Done(response); }

Encoded DeleteUser::Encode(Builder& b) const {
  return Enc(wire::Op::DeleteUser, wire::CreateDeleteUser(b, W(actor_id), W(user_id)));
}
absl::Status DeleteUser::Decode(const wire::Response& response) { return Done(response); }

// ---- Rooms and participants ----

Encoded CreateRoom::Encode(Builder& b) const {
  const auto s = EncodeSettings(b, settings);
  return Enc(wire::Op::CreateRoom,
             wire::CreateCreateRoom(b, W(owner_id), Str(b, room_code), Str(b, title), s));
}
absl::StatusOr<CreatedRoom> CreateRoom::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::CreateRoomResult>(response));
  return CreatedRoom{U(r->room_id()), S(r->room_code())};
}

Encoded CreateAndOpenRoom::Encode(Builder& b) const {
  const auto s = EncodeSettings(b, settings);
  return Enc(wire::Op::CreateAndOpenRoom,
             wire::CreateCreateAndOpenRoom(b, W(owner_id), Str(b, room_code), Str(b, title),
                                           max_participants, is_public,
                                           tags.empty() ? 0 : StrVec(b, tags), s));
}
absl::StatusOr<OpenedRoom> CreateAndOpenRoom::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::CreateRoomResult>(response));
  return OpenedRoom{U(r->room_id()), U(r->host_participant_id()), S(r->room_code())};
}

Encoded UpdateRoomSettings::Encode(Builder& b) const {
  const auto s = EncodeSettings(b, settings);
  return Enc(wire::Op::UpdateRoomSettings,
             wire::CreateUpdateRoomSettings(b, W(room_id), W(actor_id), s));
}
absl::Status UpdateRoomSettings::Decode(const wire::Response& response) { return Done(response); }

Encoded JoinRoom::Encode(Builder& b) const {
  return Enc(wire::Op::JoinRoom, wire::CreateJoinRoom(b, W(room_id), W(user_id)));
}
absl::StatusOr<Joined> JoinRoom::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::JoinRoomResult>(response));
  return Joined{U(r->participant_id()), S(r->role()), r->muted(), r->room_started()};
}

Encoded LeaveRoom::Encode(Builder& b) const {
  return Enc(wire::Op::LeaveRoom, wire::CreateLeaveRoom(b, W(room_id), W(user_id)));
}
absl::Status LeaveRoom::Decode(const wire::Response& response) { return Done(response); }

Encoded SetMuted::Encode(Builder& b) const {
  return Enc(wire::Op::SetMuted,
             wire::CreateSetMuted(b, W(room_id), W(actor_id), W(target_id), muted, expires_at));
}
absl::Status SetMuted::Decode(const wire::Response& response) { return Done(response); }

Encoded MuteAll::Encode(Builder& b) const {
  return Enc(wire::Op::MuteAll, wire::CreateMuteAll(b, W(room_id), W(actor_id)));
}
absl::StatusOr<int64_t> MuteAll::Decode(const wire::Response& response) {
  return DecodeCount(response);
}

Encoded SetHandRaised::Encode(Builder& b) const {
  return Enc(wire::Op::SetHandRaised,
             wire::CreateSetHandRaised(b, W(room_id), W(actor_id), W(target_id), raised));
}
absl::Status SetHandRaised::Decode(const wire::Response& response) { return Done(response); }

Encoded SetScreenSharing::Encode(Builder& b) const {
  return Enc(wire::Op::SetScreenSharing,
             wire::CreateSetScreenSharing(b, W(room_id), W(user_id), sharing));
}
absl::Status SetScreenSharing::Decode(const wire::Response& response) { return Done(response); }

Encoded SetSpeaking::Encode(Builder& b) const {
  return Enc(wire::Op::SetSpeaking, wire::CreateSetSpeaking(b, W(room_id), W(user_id), speaking));
}
absl::Status SetSpeaking::Decode(const wire::Response& response) { return Done(response); }

Encoded SetConnectionStatus::Encode(Builder& b) const {
  return Enc(wire::Op::SetConnectionStatus,
             wire::CreateSetConnectionStatus(b, W(room_id), W(user_id), Str(b, status)));
}
absl::Status SetConnectionStatus::Decode(const wire::Response& response) { return Done(response); }

Encoded ChangeParticipantRole::Encode(Builder& b) const {
  return Enc(
      wire::Op::ChangeParticipantRole,
      wire::CreateChangeParticipantRole(b, W(room_id), W(actor_id), W(target_id), Str(b, role)));
}
absl::Status ChangeParticipantRole::Decode(const wire::Response& response) {
  return Done(response);
}

Encoded KickParticipant::Encode(Builder& b) const {
  return Enc(wire::Op::KickParticipant,
             wire::CreateKickParticipant(b, W(room_id), W(actor_id), W(target_id), Str(b, reason)));
}
absl::Status KickParticipant::Decode(const wire::Response& response) { return Done(response); }

Encoded BanFromRoom::Encode(Builder& b) const {
  return Enc(wire::Op::BanFromRoom,
             wire::CreateBanFromRoom(b, W(room_id), W(actor_id), W(target_id), Str(b, reason),
                                     expires_at));
}
absl::Status BanFromRoom::Decode(const wire::Response& response) { return Done(response); }

Encoded UnbanFromRoom::Encode(Builder& b) const {
  return Enc(wire::Op::UnbanFromRoom,
             wire::CreateUnbanFromRoom(b, W(room_id), W(actor_id), W(target_id)));
}
absl::Status UnbanFromRoom::Decode(const wire::Response& response) { return Done(response); }

Encoded EndRoom::Encode(Builder& b) const {
  return Enc(wire::Op::EndRoom, wire::CreateEndRoom(b, W(room_id), W(actor_id)));
}
absl::Status EndRoom::Decode(const wire::Response& response) { return Done(response); }

Encoded CancelRoom::Encode(Builder& b) const {
  return Enc(wire::Op::CancelRoom, wire::CreateCancelRoom(b, W(room_id), W(actor_id)));
}
absl::Status CancelRoom::Decode(const wire::Response& response) { return Done(response); }

Encoded DeleteRoom::Encode(Builder& b) const {
  return Enc(wire::Op::DeleteRoom, wire::CreateDeleteRoom(b, W(room_id), W(actor_id)));
}
absl::Status DeleteRoom::Decode(const wire::Response& response) { return Done(response); }

// ---- Moderation ----

Encoded TakeModerationAction::Encode(Builder& b) const {
  return Enc(wire::Op::TakeModerationAction,
             wire::CreateTakeModerationAction(b, W(moderator_id), W(target_user_id), Str(b, type),
                                              W(room_id), Str(b, reason), expires_at));
}
absl::StatusOr<Uuid> TakeModerationAction::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded RevokeModerationAction::Encode(Builder& b) const {
  return Enc(wire::Op::RevokeModerationAction,
             wire::CreateRevokeModerationAction(b, W(action_id), W(revoker_id), Str(b, reason)));
}
absl::Status RevokeModerationAction::Decode(const wire::Response& response) {
  return Done(response);
}

// ---- Recordings ----

Encoded StartRecording::Encode(Builder& b) const {
  return Enc(wire::Op::StartRecording,
             wire::CreateStartRecording(b, W(room_id), W(actor_id), Str(b, storage_key),
                                        Str(b, storage_bucket), Str(b, filename), Str(b, codec),
                                        Str(b, resolution), fps, bitrate, is_public));
}
absl::StatusOr<Uuid> StartRecording::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded MarkRecordingInProgress::Encode(Builder& b) const {
  return Enc(wire::Op::MarkRecordingInProgress,
             wire::CreateMarkRecordingInProgress(b, W(recording_id)));
}
absl::Status MarkRecordingInProgress::Decode(const wire::Response& response) {
  return Done(response);
}

Encoded StopRecording::Encode(Builder& b) const {
  return Enc(wire::Op::StopRecording, wire::CreateStopRecording(b, W(recording_id), W(actor_id),
                                                                size_bytes, duration_seconds));
}
absl::Status StopRecording::Decode(const wire::Response& response) { return Done(response); }

Encoded BeginProcessing::Encode(Builder& b) const {
  return Enc(wire::Op::BeginProcessing, wire::CreateBeginProcessing(b, W(recording_id)));
}
absl::Status BeginProcessing::Decode(const wire::Response& response) { return Done(response); }

Encoded RecordingReady::Encode(Builder& b) const {
  return Enc(wire::Op::RecordingReady,
             wire::CreateRecordingReady(b, W(recording_id), Str(b, storage_url), expires_at));
}
absl::Status RecordingReady::Decode(const wire::Response& response) { return Done(response); }

Encoded FailRecording::Encode(Builder& b) const {
  return Enc(wire::Op::FailRecording,
             wire::CreateFailRecording(b, W(recording_id), Str(b, error_message)));
}
absl::Status FailRecording::Decode(const wire::Response& response) { return Done(response); }

Encoded DeleteRecording::Encode(Builder& b) const {
  return Enc(wire::Op::DeleteRecording,
             wire::CreateDeleteRecording(b, W(recording_id), W(actor_id)));
}
absl::Status DeleteRecording::Decode(const wire::Response& response) { return Done(response); }

Encoded ExpiredRecordings::Encode(Builder& b) const {
  return Enc(wire::Op::ExpiredRecordings, wire::CreateExpiredRecordings(b, limit));
}
absl::StatusOr<Rows> ExpiredRecordings::Decode(const wire::Response& response) {
  return DecodeRows(response);
}

// ---- Call sessions ----

Encoded StartCallSession::Encode(Builder& b) const {
  return Enc(wire::Op::StartCallSession, wire::CreateStartCallSession(b, W(participant_id)));
}
absl::StatusOr<Uuid> StartCallSession::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded ConnectCallSession::Encode(Builder& b) const {
  const auto t = EncodeTelemetry(b, telemetry);
  return Enc(wire::Op::ConnectCallSession, wire::CreateConnectCallSession(b, W(session_id), t));
}
absl::Status ConnectCallSession::Decode(const wire::Response& response) { return Done(response); }

Encoded ReportTelemetry::Encode(Builder& b) const {
  const auto t = EncodeTelemetry(b, telemetry);
  return Enc(wire::Op::ReportTelemetry, wire::CreateReportTelemetry(b, W(session_id), t));
}
absl::Status ReportTelemetry::Decode(const wire::Response& response) { return Done(response); }

Encoded FailCallSession::Encode(Builder& b) const {
  return Enc(wire::Op::FailCallSession,
             wire::CreateFailCallSession(b, W(session_id), Str(b, reason), Str(b, detail)));
}
absl::Status FailCallSession::Decode(const wire::Response& response) { return Done(response); }

Encoded DropCallSession::Encode(Builder& b) const {
  return Enc(wire::Op::DropCallSession,
             wire::CreateDropCallSession(b, W(session_id), Str(b, reason), Str(b, detail)));
}
absl::Status DropCallSession::Decode(const wire::Response& response) { return Done(response); }

Encoded EndCallSession::Encode(Builder& b) const {
  return Enc(wire::Op::EndCallSession, wire::CreateEndCallSession(b, W(session_id)));
}
absl::Status EndCallSession::Decode(const wire::Response& response) { return Done(response); }

Encoded GetCallSession::Encode(Builder& b) const {
  return Enc(wire::Op::GetCallSession, wire::CreateGetCallSession(b, W(session_id)));
}
absl::StatusOr<CallSession> GetCallSession::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::CallSessionResult>(response));
  return CallSession{.id = U(r->id()),
                     .participant_id = U(r->participant_id()),
                     .user_id = U(r->user_id()),
                     .room_id = U(r->room_id()),
                     .status = S(r->status()),
                     .started_at = r->started_at(),
                     .connected_at = Opt(r->connected_at()),
                     .ended_at = Opt(r->ended_at()),
                     .failure_reason = S(r->failure_reason()),
                     .failure_detail = S(r->failure_detail()),
                     .rtt_ms = Opt(r->rtt_ms()),
                     .jitter_ms = Opt(r->jitter_ms()),
                     .packet_loss_bp = Opt(r->packet_loss_bp()),
                     .bitrate_kbps = Opt(r->bitrate_kbps()),
                     .region = S(r->region()),
                     .transport = S(r->transport())};
}

// ---- Wallets, transfers, premium ----

Encoded CreateWallet::Encode(Builder& b) const {
  return Enc(wire::Op::CreateWallet, wire::CreateCreateWallet(b, W(user_id), Str(b, currency)));
}
absl::StatusOr<Uuid> CreateWallet::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded TopUp::Encode(Builder& b) const {
  return Enc(wire::Op::TopUp, wire::CreateTopUp(b, W(user_id), amount, Str(b, idempotency_key),
                                                Str(b, currency), Str(b, memo)));
}
absl::StatusOr<Transfer> TopUp::Decode(const wire::Response& response) {
  return DecodeTransfer(response);
}

Encoded Gift::Encode(Builder& b) const {
  return Enc(wire::Op::Gift, wire::CreateGift(b, W(sender_id), W(receiver_id), amount, W(room_id),
                                              Str(b, idempotency_key), Str(b, currency)));
}
absl::StatusOr<Transfer> Gift::Decode(const wire::Response& response) {
  return DecodeTransfer(response);
}

Encoded Reserve::Encode(Builder& b) const {
  return Enc(wire::Op::Reserve,
             wire::CreateReserve(b, W(payer_id), amount, timeout_at, Str(b, currency), W(room_id),
                                 Str(b, idempotency_key)));
}
absl::StatusOr<Transfer> Reserve::Decode(const wire::Response& response) {
  return DecodeTransfer(response);
}

Encoded PostReservation::Encode(Builder& b) const {
  return Enc(wire::Op::PostReservation,
             wire::CreatePostReservation(b, W(transfer_id), final_amount));
}
absl::Status PostReservation::Decode(const wire::Response& response) { return Done(response); }

Encoded VoidReservation::Encode(Builder& b) const {
  return Enc(wire::Op::VoidReservation, wire::CreateVoidReservation(b, W(transfer_id)));
}
absl::Status VoidReservation::Decode(const wire::Response& response) { return Done(response); }

Encoded Reverse::Encode(Builder& b) const {
  return Enc(wire::Op::Reverse, wire::CreateReverse(b, W(transfer_id), Str(b, reason)));
}
absl::StatusOr<Uuid> Reverse::Decode(const wire::Response& response) { return DecodeId(response); }

Encoded SetFee::Encode(Builder& b) const {
  return Enc(wire::Op::SetFee,
             wire::CreateSetFee(b, Str(b, transfer_type), fee_bps, min_fee, effective_from));
}
absl::StatusOr<Uuid> SetFee::Decode(const wire::Response& response) { return DecodeId(response); }

Encoded CreatePremiumFeature::Encode(Builder& b) const {
  return Enc(wire::Op::CreatePremiumFeature,
             wire::CreateCreatePremiumFeature(b, Str(b, code), Str(b, name), Str(b, description),
                                              price, Str(b, currency), Str(b, kind), period_days));
}
absl::StatusOr<Uuid> CreatePremiumFeature::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded PurchasePremium::Encode(Builder& b) const {
  return Enc(
      wire::Op::PurchasePremium,
      wire::CreatePurchasePremium(b, W(user_id), Str(b, feature_code), Str(b, idempotency_key)));
}
absl::StatusOr<Purchase> PurchasePremium::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::PurchaseResult>(response));
  return Purchase{U(r->purchase_id()), U(r->transfer_id()), Opt(r->expires_at()),
                  r->already_done()};
}

Encoded RefundPurchase::Encode(Builder& b) const {
  return Enc(wire::Op::RefundPurchase,
             wire::CreateRefundPurchase(b, W(purchase_id), Str(b, reason)));
}
absl::StatusOr<Uuid> RefundPurchase::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded CancelSubscription::Encode(Builder& b) const {
  return Enc(wire::Op::CancelSubscription, wire::CreateCancelSubscription(b, W(purchase_id)));
}
absl::Status CancelSubscription::Decode(const wire::Response& response) { return Done(response); }

Encoded GetWalletBalance::Encode(Builder& b) const {
  return Enc(wire::Op::GetWalletBalance,
             wire::CreateGetWalletBalance(b, W(user_id), Str(b, currency)));
}
absl::StatusOr<WalletBalance> GetWalletBalance::Decode(const wire::Response& response) {
  return DecodeBalance(response);
}

Encoded GetSystemWalletBalance::Encode(Builder& b) const {
  return Enc(wire::Op::GetSystemWalletBalance,
             wire::CreateGetSystemWalletBalance(b, Str(b, kind), Str(b, currency)));
}
absl::StatusOr<WalletBalance> GetSystemWalletBalance::Decode(const wire::Response& response) {
  return DecodeBalance(response);
}

Encoded AuditAllWallets::Encode(Builder& b) const {
  return Enc(wire::Op::AuditAllWallets, wire::CreateAuditAllWallets(b));
}
absl::StatusOr<LedgerAudit> AuditAllWallets::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::LedgerAuditResult>(response));
  LedgerAudit out{.wallets = r->wallets(),
                  .transfers = r->transfers(),
                  .balanced = r->balanced(),
                  .ok = r->ok()};
  if (r->mismatches() != nullptr) {
    for (const auto* m : *r->mismatches()) {
      out.mismatches.push_back({U(m->wallet_id()), S(m->detail())});
    }
  }
  if (r->overdrawn() != nullptr) {
    for (const wire::Uuid* u : *r->overdrawn()) out.overdrawn.push_back(U(u));
  }
  return out;
}

Encoded WalletTransactions::Encode(Builder& b) const {
  return Enc(wire::Op::WalletTransactions,
             wire::CreateWalletTransactions(b, W(user_id), Str(b, currency), limit, W(after)));
}
absl::StatusOr<TransferPage> WalletTransactions::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::TransfersResult>(response));
  TransferPage out;
  if (r->transfers() != nullptr) {
    for (const auto* t : *r->transfers()) {
      out.transfers.push_back({.id = U(t->id()),
                               .type = S(t->type()),
                               .status = S(t->status()),
                               .amount = t->amount(),
                               .outgoing = t->outgoing(),
                               .counterparty_kind = S(t->counterparty_kind()),
                               .counterparty_user = OptU(t->counterparty_user()),
                               .room_id = OptU(t->room_id()),
                               .parent_id = OptU(t->parent_id()),
                               .reverses_id = OptU(t->reverses_id()),
                               .memo = S(t->memo()),
                               .created_at = t->created_at()});
    }
  }
  out.next = OptU(r->next());
  return out;
}

// ---- Notifications and system events ----

Encoded SendNotification::Encode(Builder& b) const {
  return Enc(
      wire::Op::SendNotification,
      wire::CreateSendNotification(b, W(recipient_id), Str(b, kind), W(actor_id), W(room_id),
                                   Str(b, title), Str(b, body), Str(b, payload), expires_at));
}
absl::StatusOr<Uuid> SendNotification::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded InviteToRoom::Encode(Builder& b) const {
  return Enc(wire::Op::InviteToRoom,
             wire::CreateInviteToRoom(b, W(room_id), W(inviter_id), W(invitee_id)));
}
absl::StatusOr<Invite> InviteToRoom::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::InviteResult>(response));
  return Invite{U(r->notification_id()), r->already_invited()};
}

Encoded RecordMissedCall::Encode(Builder& b) const {
  return Enc(wire::Op::RecordMissedCall,
             wire::CreateRecordMissedCall(b, W(recipient_id), W(caller_id), W(room_id)));
}
absl::StatusOr<Uuid> RecordMissedCall::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded MarkNotificationRead::Encode(Builder& b) const {
  return Enc(wire::Op::MarkNotificationRead,
             wire::CreateMarkNotificationRead(b, W(notification_id), W(recipient_id)));
}
absl::Status MarkNotificationRead::Decode(const wire::Response& response) { return Done(response); }

Encoded MarkAllRead::Encode(Builder& b) const {
  return Enc(wire::Op::MarkAllRead, wire::CreateMarkAllRead(b, W(recipient_id)));
}
absl::StatusOr<int64_t> MarkAllRead::Decode(const wire::Response& response) {
  return DecodeCount(response);
}

Encoded DeleteNotification::Encode(Builder& b) const {
  return Enc(wire::Op::DeleteNotification,
             wire::CreateDeleteNotification(b, W(notification_id), W(recipient_id)));
}
absl::Status DeleteNotification::Decode(const wire::Response& response) { return Done(response); }

Encoded ListNotifications::Encode(Builder& b) const {
  return Enc(wire::Op::ListNotifications,
             wire::CreateListNotifications(b, W(recipient_id), unread_only, limit));
}
absl::StatusOr<std::vector<Notification>> ListNotifications::Decode(
    const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::NotificationsResult>(response));
  std::vector<Notification> out;
  if (r->notifications() != nullptr) {
    for (const auto* n : *r->notifications()) {
      out.push_back({.id = U(n->id()),
                     .kind = S(n->kind()),
                     .actor_id = OptU(n->actor_id()),
                     .room_id = OptU(n->room_id()),
                     .title = S(n->title()),
                     .body = S(n->body()),
                     .payload = S(n->payload()),
                     .created_at = n->created_at(),
                     .read_at = Opt(n->read_at()),
                     .expires_at = Opt(n->expires_at())});
    }
  }
  return out;
}

Encoded RecordSystemEvent::Encode(Builder& b) const {
  return Enc(wire::Op::RecordSystemEvent,
             wire::CreateRecordSystemEvent(b, Str(b, severity), Str(b, component), Str(b, code),
                                           Str(b, message), Str(b, details), W(user_id), W(room_id),
                                           occurred_at));
}
absl::StatusOr<Uuid> RecordSystemEvent::Decode(const wire::Response& response) {
  return DecodeId(response);
}

// ---- Reads ----

Encoded UserByEmail::Encode(Builder& b) const {
  return Enc(wire::Op::UserByEmail, wire::CreateUserByEmail(b, Str(b, email)));
}
absl::StatusOr<std::string> UserByEmail::Decode(const wire::Response& response) {
  return OneRow(response);
}

Encoded UserByUsername::Encode(Builder& b) const {
  return Enc(wire::Op::UserByUsername, wire::CreateUserByUsername(b, Str(b, username)));
}
absl::StatusOr<std::string> UserByUsername::Decode(const wire::Response& response) {
  return OneRow(response);
}

Encoded PresentParticipants::Encode(Builder& b) const {
  return Enc(wire::Op::PresentParticipants, wire::CreatePresentParticipants(b, W(room_id)));
}
absl::StatusOr<std::vector<PresentParticipant>> PresentParticipants::Decode(
    const wire::Response& response) {
  return DecodeParticipants(response);
}

Encoded HandRaiseQueue::Encode(Builder& b) const {
  return Enc(wire::Op::HandRaiseQueue, wire::CreateHandRaiseQueue(b, W(room_id)));
}
absl::StatusOr<std::vector<PresentParticipant>> HandRaiseQueue::Decode(
    const wire::Response& response) {
  return DecodeParticipants(response);
}

Encoded UserPresentRooms::Encode(Builder& b) const {
  return Enc(wire::Op::UserPresentRooms, wire::CreateUserPresentRooms(b, W(user_id)));
}
absl::StatusOr<Rows> UserPresentRooms::Decode(const wire::Response& response) {
  return DecodeRows(response);
}

Encoded RoomAuditTrail::Encode(Builder& b) const {
  return Enc(wire::Op::RoomAuditTrail, wire::CreateRoomAuditTrail(b, W(room_id), limit, W(after)));
}
absl::StatusOr<Rows> RoomAuditTrail::Decode(const wire::Response& response) {
  return DecodeRows(response);
}

Encoded UserAuditTrail::Encode(Builder& b) const {
  return Enc(wire::Op::UserAuditTrail, wire::CreateUserAuditTrail(b, W(user_id), limit, W(after)));
}
absl::StatusOr<Rows> UserAuditTrail::Decode(const wire::Response& response) {
  return DecodeRows(response);
}

Encoded RoomStatistics::Encode(Builder& b) const {
  return Enc(wire::Op::RoomStatistics, wire::CreateRoomStatistics(b, W(room_id)));
}
absl::StatusOr<RoomStats> RoomStatistics::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::RoomStatsResult>(response));
  return RoomStats{r->participations(), r->present(), r->total_duration_seconds(),
                   r->average_duration_seconds()};
}

Encoded LiveRoomsByTag::Encode(Builder& b) const {
  return Enc(wire::Op::LiveRoomsByTag, wire::CreateLiveRoomsByTag(b, Str(b, tag), limit, W(after)));
}
absl::StatusOr<Rows> LiveRoomsByTag::Decode(const wire::Response& response) {
  return DecodeRows(response);
}

Encoded FindTag::Encode(Builder& b) const {
  return Enc(wire::Op::FindTag, wire::CreateFindTag(b, Str(b, name)));
}
absl::StatusOr<std::string> FindTag::Decode(const wire::Response& response) {
  return OneRow(response);
}

Encoded IsBanned::Encode(Builder& b) const {
  return Enc(wire::Op::IsBanned, wire::CreateIsBanned(b, W(room_id), W(user_id)));
}
absl::StatusOr<bool> IsBanned::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::BoolResult>(response));
  return r->value();
}

Encoded GetRow::Encode(Builder& b) const {
  return Enc(wire::Op::GetRow, wire::CreateGetRow(b, Str(b, table), W(id)));
}
absl::StatusOr<std::string> GetRow::Decode(const wire::Response& response) {
  return OneRow(response);
}

// ---- Searches ----

Encoded SearchUsers::Encode(Builder& b) const {
  return Enc(wire::Op::SearchUsers,
             wire::CreateSearchUsers(b, Str(b, username_prefix), Str(b, display_name_prefix),
                                     Str(b, email), Names(b, account_status), Names(b, role),
                                     verified, Times(b, created), Times(b, last_login),
                                     include_deleted, Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchUsers::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchRooms::Encode(Builder& b) const {
  return Enc(wire::Op::SearchRooms,
             wire::CreateSearchRooms(b, Names(b, tags), Names(b, tags_all), Names(b, status),
                                     live_now, is_public, Ints(b, max_participants),
                                     Ints(b, participants), has_free_seat, W(owner_id),
                                     W(category_id), Times(b, created), Times(b, scheduled),
                                     include_deleted, Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchRooms::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchCallSessions::Encode(Builder& b) const {
  return Enc(wire::Op::SearchCallSessions,
             wire::CreateSearchCallSessions(
                 b, Names(b, status), Names(b, failure_reason), Names(b, transport), Str(b, region),
                 W(user_id), W(room_id), W(participant_id), Times(b, started),
                 Ints(b, packet_loss_bp), Ints(b, rtt_ms), Ints(b, jitter_ms),
                 Ints(b, bitrate_kbps), Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchCallSessions::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchParticipants::Encode(Builder& b) const {
  return Enc(wire::Op::SearchParticipants,
             wire::CreateSearchParticipants(
                 b, Names(b, role), present, W(room_id), W(user_id), Times(b, joined),
                 Times(b, left), Ints(b, duration_seconds), Ints(b, mute_count),
                 Ints(b, hand_raise_count), kicked, banned, Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchParticipants::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchModeration::Encode(Builder& b) const {
  return Enc(wire::Op::SearchModeration,
             wire::CreateSearchModeration(b, Names(b, action_type), in_force, W(target_user_id),
                                          W(moderator_id), W(room_id), Times(b, created),
                                          Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchModeration::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchAudit::Encode(Builder& b) const {
  return Enc(wire::Op::SearchAudit,
             wire::CreateSearchAudit(b, Names(b, action), W(user_id), W(target_user_id), W(room_id),
                                     Times(b, time), Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchAudit::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchTransfers::Encode(Builder& b) const {
  return Enc(wire::Op::SearchTransfers,
             wire::CreateSearchTransfers(b, Names(b, type), Names(b, status), Str(b, direction),
                                         W(wallet_id), W(room_id), Ints(b, amount),
                                         Times(b, created), Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchTransfers::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

Encoded SearchNotifications::Encode(Builder& b) const {
  return Enc(
      wire::Op::SearchNotifications,
      wire::CreateSearchNotifications(b, Names(b, kind), unread, W(recipient_id), W(actor_id),
                                      W(room_id), Times(b, created), unexpired_at, include_deleted,
                                      Str(b, sort), limit, Str(b, after)));
}
absl::StatusOr<SearchPage> SearchNotifications::Decode(const wire::Response& response) {
  return DecodeSearchPage(response);
}

// ---- Reports ----

int ReportTable::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == column) return static_cast<int>(i);
  }
  return -1;
}

const ReportRow* ReportTable::Find(Timestamp bucket_start, std::string_view key) const {
  for (const ReportRow& r : rows) {
    if (r.bucket_start == bucket_start && r.key == key) return &r;
  }
  return nullptr;
}

double ReportTable::Get(Timestamp bucket_start, std::string_view key,
                        std::string_view column) const {
  const int c = ColumnIndex(column);
  VOX_DCHECK(c >= 0);
  const ReportRow* row = Find(bucket_start, key);
  return row == nullptr || c < 0 ? 0 : row->values[c];
}

double ReportTable::Sum(std::string_view column) const {
  const int c = ColumnIndex(column);
  VOX_DCHECK(c >= 0);
  double sum = 0;
  if (c < 0) return sum;
  for (const ReportRow& r : rows) sum += r.values[c];
  return sum;
}

const ReportTable* Report::Find(std::string_view name) const {
  for (const ReportTable& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Encoded IdentityReport::Encode(Builder& b) const {
  return Enc(wire::Op::IdentityReport,
             wire::CreateIdentityReport(b, from, to, Str(b, bucket), Str(b, by), Str(b, provider),
                                        Str(b, account_status), Str(b, role)));
}
absl::StatusOr<Report> IdentityReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded RoomReport::Encode(Builder& b) const {
  return Enc(wire::Op::RoomReport, wire::CreateRoomReport(b, from, to, Str(b, bucket), Str(b, by),
                                                          is_public, Str(b, tag)));
}
absl::StatusOr<Report> RoomReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded CallReport::Encode(Builder& b) const {
  return Enc(wire::Op::CallReport, wire::CreateCallReport(b, from, to, Str(b, bucket), Str(b, by),
                                                          Str(b, transport), Str(b, region)));
}
absl::StatusOr<Report> CallReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded EngagementReport::Encode(Builder& b) const {
  return Enc(wire::Op::EngagementReport,
             wire::CreateEngagementReport(b, from, to, Str(b, bucket), Str(b, by), is_public,
                                          Str(b, tag)));
}
absl::StatusOr<Report> EngagementReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded ModerationReport::Encode(Builder& b) const {
  return Enc(wire::Op::ModerationReport,
             wire::CreateModerationReport(b, from, to, Str(b, bucket), Str(b, by), Str(b, type),
                                          W(moderator_id), top_n));
}
absl::StatusOr<Report> ModerationReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded EconomyReport::Encode(Builder& b) const {
  return Enc(wire::Op::EconomyReport,
             wire::CreateEconomyReport(b, from, to, Str(b, bucket), Str(b, by), Str(b, type),
                                       Str(b, currency), top_n));
}
absl::StatusOr<Report> EconomyReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded SystemEventReport::Encode(Builder& b) const {
  return Enc(
      wire::Op::SystemEventReport,
      wire::CreateSystemEventReport(b, from, to, Str(b, bucket), Str(b, by), Str(b, min_severity),
                                    Str(b, component), burst_threshold));
}
absl::StatusOr<Report> SystemEventReport::Decode(const wire::Response& response) {
  return DecodeReport(response);
}

Encoded AuditCount::Encode(Builder& b) const {
  return Enc(wire::Op::AuditCount, wire::CreateAuditCount(b, from, to, Str(b, action)));
}
absl::StatusOr<int64_t> AuditCount::Decode(const wire::Response& response) {
  return DecodeCount(response);
}

// ---- Generic writes ----

Encoded InsertRow::Encode(Builder& b) const {
  const auto t = Str(b, table);
  return Enc(wire::Op::InsertRow, wire::CreateInsertRow(b, t, EncodeFields(b, values)));
}
absl::StatusOr<Uuid> InsertRow::Decode(const wire::Response& response) {
  return DecodeId(response);
}

Encoded UpdateRow::Encode(Builder& b) const {
  const auto t = Str(b, table);
  return Enc(wire::Op::UpdateRow, wire::CreateUpdateRow(b, t, W(id), EncodeFields(b, values)));
}
absl::Status UpdateRow::Decode(const wire::Response& response) { return Done(response); }

Encoded DeleteRow::Encode(Builder& b) const {
  return Enc(wire::Op::DeleteRow, wire::CreateDeleteRow(b, Str(b, table), W(id)));
}
absl::Status DeleteRow::Decode(const wire::Response& response) { return Done(response); }

// ---- Administration ----

Encoded RunMaintenance::Encode(Builder& b) const {
  return Enc(wire::Op::RunMaintenance, wire::CreateRunMaintenance(b));
}
absl::StatusOr<MaintenanceReport> RunMaintenance::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::MaintenanceResult>(response));
  return MaintenanceReport{r->restrictions_lifted(), r->recordings_deleted(),
                           r->reservations_voided(), r->subscriptions_expired()};
}

Encoded Stats::Encode(Builder& b) const { return Enc(wire::Op::Stats, wire::CreateStats(b)); }
absl::StatusOr<ServerStats> Stats::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::StatsResult>(response));
  ServerStats out{.commits = r->commits(),
                  .durable_lsn = r->durable_lsn(),
                  .durability = S(r->durability()),
                  .connections = r->connections(),
                  .requests = r->requests(),
                  .errors = r->errors(),
                  .uptime_seconds = r->uptime_seconds(),
                  .wal_batches = r->wal_batches(),
                  .wal_syncs = r->wal_syncs(),
                  .wal_bytes = r->wal_bytes(),
                  .snapshot_age_seconds = Opt(r->snapshot_age_seconds())};
  if (r->tables() != nullptr) {
    for (const auto* t : *r->tables()) {
      out.tables.push_back({S(t->name()), t->rows(), t->column_bytes(), t->index_bytes()});
    }
  }
  return out;
}

Encoded Checkpoint::Encode(Builder& b) const {
  return Enc(wire::Op::Checkpoint, wire::CreateCheckpoint(b));
}
absl::StatusOr<CheckpointInfo> Checkpoint::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::CheckpointResult>(response));
  return CheckpointInfo{S(r->path()), r->lsn(), r->bytes(), r->pause_us()};
}

Encoded ListSnapshots::Encode(Builder& b) const {
  return Enc(wire::Op::ListSnapshots, wire::CreateListSnapshots(b));
}
absl::StatusOr<std::vector<SnapshotEntry>> ListSnapshots::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::SnapshotsResult>(response));
  std::vector<SnapshotEntry> out;
  if (r->snapshots() != nullptr) {
    for (const auto* s : *r->snapshots()) {
      out.push_back({S(s->path()), s->lsn(), U(s->database_id()), s->schema_version(),
                     s->created_at(), s->total_rows(), s->bytes(), S(s->error())});
    }
  }
  return out;
}

// ---- Schema migrations ----

Encoded ApplyMigration::Encode(Builder& b) const {
  return Enc(wire::Op::ApplyMigration,
             wire::CreateApplyMigration(b, Str(b, text), confirm_destructive, dry_run));
}
absl::StatusOr<MigrationInfo> ApplyMigration::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::MigrationResult>(response));
  MigrationInfo out{.from_version = r->from_version(),
                    .to_version = r->to_version(),
                    .applied = r->applied(),
                    .destructive = r->destructive(),
                    .text = S(r->text())};
  if (r->changes() != nullptr) {
    for (const auto* c : *r->changes()) out.changes.push_back(c->str());
  }
  return out;
}

Encoded GetSchema::Encode(Builder& b) const {
  return Enc(wire::Op::GetSchema, wire::CreateGetSchema(b));
}
absl::StatusOr<SchemaInfo> GetSchema::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::SchemaResult>(response));
  SchemaInfo out{.version = r->version(),
                 .builtin_version = r->builtin_version(),
                 .description = S(r->description())};
  if (r->history() != nullptr) {
    for (const auto* h : *r->history()) out.history.push_back(h->str());
  }
  return out;
}

// ---- Change streams ----

Encoded Subscribe::Encode(Builder& b) const {
  const auto t = Str(b, table);
  const int64_t from = from_lsn ? static_cast<int64_t>(*from_lsn) : -1;
  return Enc(wire::Op::Subscribe, wire::CreateSubscribe(b, W(room_id), W(user_id), t, from));
}
absl::StatusOr<Subscribed> Subscribe::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::SubscribeResult>(response));
  return Subscribed{r->subscription(), r->from_lsn()};
}

Encoded Unsubscribe::Encode(Builder& b) const {
  return Enc(wire::Op::Unsubscribe, wire::CreateUnsubscribe(b, subscription));
}
absl::Status Unsubscribe::Decode(const wire::Response& response) {
  // Empty, or (as the server answers it) no result at all.
  if (response.result_type() == wire::Result::NONE) return absl::OkStatus();
  return Done(response);
}

absl::StatusOr<EventBatchInfo> DecodeEventBatch(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::EventBatch>(response));
  EventBatchInfo out{.subscription = r->subscription(),
                     .last_lsn = r->last_lsn(),
                     .ended = S(r->ended())};
  if (r->events() != nullptr) {
    out.events.reserve(r->events()->size());
    for (const auto* e : *r->events()) {
      out.events.push_back({e->lsn(), e->commit_time(), S(e->table()), U(e->id()), e->deleted(),
                            S(e->row()), S(e->action())});
    }
  }
  return out;
}

}  // namespace vox::rpc
