#include "net/rpc.h"

#include "schema/voxdb_generated.h"

namespace vox::rpc {
namespace {

namespace fb = flatbuffers;

wire::Uuid W(const Uuid& u) { return wire::Uuid(u.hi, u.lo); }
Uuid U(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }
std::optional<Uuid> OptU(const wire::Uuid* u) {
  return u == nullptr ? std::nullopt : std::optional<Uuid>(U(u));
}
std::string S(const fb::String* s) { return s == nullptr ? std::string() : s->str(); }

template <typename T>
Encoded Enc(wire::Op type, fb::Offset<T> op) {
  return {static_cast<uint8_t>(type), op.o};
}

// The response's result, or INTERNAL if the server answered another type.
template <typename T>
absl::StatusOr<const T*> ResultAs(const wire::Response& response) {
  const T* r = response.template result_as<T>();
  if (r == nullptr) return absl::InternalError("the server answered with an unexpected result type");
  return r;
}

absl::Status Done(const wire::Response& response) {
  return ResultAs<wire::Empty>(response).status();
}

absl::StatusOr<rpc::Rows> DecodeRows(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::RowsResult>(response));
  rpc::Rows out;
  if (r->rows() != nullptr) {
    for (const auto* row : *r->rows()) out.rows.push_back(row->str());
  }
  out.next = OptU(r->next());
  return out;
}

absl::StatusOr<std::string> OneRow(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(rpc::Rows rows, DecodeRows(response));
  if (rows.rows.size() != 1) return absl::InternalError("the server answered with no row");
  return std::move(rows.rows[0]);
}

absl::StatusOr<Transfer> DecodeTransfer(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::TransferResult>(response));
  return Transfer{U(r->transfer_id()), OptU(r->fee_transfer_id()), r->fee(), r->already_done()};
}

fb::Offset<fb::Vector<fb::Offset<wire::FieldValue>>> EncodeFields(
    Builder& b, const std::vector<Field>& values) {
  std::vector<fb::Offset<wire::FieldValue>> out;
  for (const Field& f : values) {
    const auto u = W(f.uuid_value);
    out.push_back(wire::CreateFieldValue(
        b, b.CreateString(f.column), static_cast<wire::ValueKind>(f.kind), f.int_value,
        f.kind == Field::Kind::kString ? b.CreateString(f.string_value) : 0,
        f.kind == Field::Kind::kUuid ? &u : nullptr));
  }
  return b.CreateVector(out);
}

}  // namespace

// ---- Identity ----

Encoded RegisterUser::Encode(Builder& b) const {
  return Enc(wire::Op::RegisterUser,
             wire::CreateRegisterUser(b, b.CreateString(username), b.CreateString(email),
                                      b.CreateString(password_hash), b.CreateString(display_name)));
}
absl::StatusOr<Registered> RegisterUser::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::RegisterUserResult>(response));
  return Registered{U(r->user_id()), U(r->auth_provider_id()), U(r->wallet_id())};
}

// ---- Rooms and participants ----

Encoded CreateAndOpenRoom::Encode(Builder& b) const {
  const auto owner = W(owner_id);
  std::vector<fb::Offset<fb::String>> t;
  for (const auto& tag : tags) t.push_back(b.CreateString(tag));
  return Enc(wire::Op::CreateAndOpenRoom,
             wire::CreateCreateAndOpenRoom(b, &owner, b.CreateString(room_code),
                                           b.CreateString(title), max_participants, is_public,
                                           t.empty() ? 0 : b.CreateVector(t)));
}
absl::StatusOr<OpenedRoom> CreateAndOpenRoom::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::CreateRoomResult>(response));
  return OpenedRoom{U(r->room_id()), U(r->host_participant_id()), S(r->room_code())};
}

Encoded JoinRoom::Encode(Builder& b) const {
  const auto r = W(room_id), u = W(user_id);
  return Enc(wire::Op::JoinRoom, wire::CreateJoinRoom(b, &r, &u));
}
absl::StatusOr<Joined> JoinRoom::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::JoinRoomResult>(response));
  return Joined{U(r->participant_id()), S(r->role()), r->muted(), r->room_started()};
}

Encoded LeaveRoom::Encode(Builder& b) const {
  const auto r = W(room_id), u = W(user_id);
  return Enc(wire::Op::LeaveRoom, wire::CreateLeaveRoom(b, &r, &u));
}
absl::Status LeaveRoom::Decode(const wire::Response& response) { return Done(response); }

Encoded SetMuted::Encode(Builder& b) const {
  const auto r = W(room_id), a = W(actor_id), t = W(target_id);
  return Enc(wire::Op::SetMuted, wire::CreateSetMuted(b, &r, &a, &t, muted));
}
absl::Status SetMuted::Decode(const wire::Response& response) { return Done(response); }

Encoded SetHandRaised::Encode(Builder& b) const {
  const auto r = W(room_id), a = W(actor_id), t = W(target_id);
  return Enc(wire::Op::SetHandRaised, wire::CreateSetHandRaised(b, &r, &a, &t, raised));
}
absl::Status SetHandRaised::Decode(const wire::Response& response) { return Done(response); }

Encoded EndRoom::Encode(Builder& b) const {
  const auto r = W(room_id), a = W(actor_id);
  return Enc(wire::Op::EndRoom, wire::CreateEndRoom(b, &r, &a));
}
absl::Status EndRoom::Decode(const wire::Response& response) { return Done(response); }

// ---- Economy ----

Encoded TopUp::Encode(Builder& b) const {
  const auto u = W(user_id);
  return Enc(wire::Op::TopUp, wire::CreateTopUp(b, &u, amount, b.CreateString(idempotency_key)));
}
absl::StatusOr<Transfer> TopUp::Decode(const wire::Response& response) { return DecodeTransfer(response); }

Encoded Gift::Encode(Builder& b) const {
  const auto s = W(sender_id), r = W(receiver_id), room = W(room_id.value_or(Uuid{}));
  return Enc(wire::Op::Gift, wire::CreateGift(b, &s, &r, amount, room_id ? &room : nullptr,
                                              b.CreateString(idempotency_key)));
}
absl::StatusOr<Transfer> Gift::Decode(const wire::Response& response) { return DecodeTransfer(response); }

// ---- Reads ----

Encoded UserByEmail::Encode(Builder& b) const {
  return Enc(wire::Op::UserByEmail, wire::CreateUserByEmail(b, b.CreateString(email)));
}
absl::StatusOr<std::string> UserByEmail::Decode(const wire::Response& response) { return OneRow(response); }

Encoded PresentParticipants::Encode(Builder& b) const {
  const auto r = W(room_id);
  return Enc(wire::Op::PresentParticipants, wire::CreatePresentParticipants(b, &r));
}
absl::StatusOr<std::vector<PresentParticipant>> PresentParticipants::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::ParticipantsResult>(response));
  std::vector<PresentParticipant> out;
  if (r->participants() != nullptr) {
    for (const auto* p : *r->participants()) {
      out.push_back({U(p->participant_id()), U(p->user_id()), S(p->role()), p->muted(),
                     p->hand_raised(), p->speaking(), p->joined_at()});
    }
  }
  return out;
}

Encoded RoomAuditTrail::Encode(Builder& b) const {
  const auto r = W(room_id), a = W(after.value_or(Uuid{}));
  return Enc(wire::Op::RoomAuditTrail,
             wire::CreateRoomAuditTrail(b, &r, limit, after ? &a : nullptr));
}
absl::StatusOr<Rows> RoomAuditTrail::Decode(const wire::Response& response) { return DecodeRows(response); }

Encoded IsBanned::Encode(Builder& b) const {
  const auto r = W(room_id), u = W(user_id);
  return Enc(wire::Op::IsBanned, wire::CreateIsBanned(b, &r, &u));
}
absl::StatusOr<bool> IsBanned::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::BoolResult>(response));
  return r->value();
}

Encoded GetRow::Encode(Builder& b) const {
  const auto i = W(id);
  return Enc(wire::Op::GetRow, wire::CreateGetRow(b, b.CreateString(table), &i));
}
absl::StatusOr<std::string> GetRow::Decode(const wire::Response& response) { return OneRow(response); }

// ---- Generic writes ----

Encoded InsertRow::Encode(Builder& b) const {
  auto t = b.CreateString(table);
  return Enc(wire::Op::InsertRow, wire::CreateInsertRow(b, t, EncodeFields(b, values)));
}
absl::StatusOr<Uuid> InsertRow::Decode(const wire::Response& response) {
  VOX_ASSIGN_OR_RETURN(const auto* r, ResultAs<wire::IdResult>(response));
  return U(r->id());
}

Encoded UpdateRow::Encode(Builder& b) const {
  const auto i = W(id);
  auto t = b.CreateString(table);
  return Enc(wire::Op::UpdateRow, wire::CreateUpdateRow(b, t, &i, EncodeFields(b, values)));
}
absl::Status UpdateRow::Decode(const wire::Response& response) { return Done(response); }

Encoded DeleteRow::Encode(Builder& b) const {
  const auto i = W(id);
  return Enc(wire::Op::DeleteRow, wire::CreateDeleteRow(b, b.CreateString(table), &i));
}
absl::Status DeleteRow::Decode(const wire::Response& response) { return Done(response); }

// ---- Administration ----

Encoded Stats::Encode(Builder& b) const {
  return Enc(wire::Op::Stats, wire::CreateStats(b));
}
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
                  .wal_bytes = r->wal_bytes()};
  if (r->snapshot_age_seconds()) out.snapshot_age_seconds = *r->snapshot_age_seconds();
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

}  // namespace vox::rpc
