#include "net/internal/dispatch.h"

#include "engine/ops/generic.h"
#include "engine/ops/identity.h"
#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "schema/catalog.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox::net {
namespace {

namespace fb = flatbuffers;
using wire::Op;

wire::Uuid ToWire(const Uuid& u) { return wire::Uuid(u.hi, u.lo); }
Uuid FromWire(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }
std::string_view View(const fb::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
}

bool IsRead(Op op) {
  switch (op) {
    case Op::UserByEmail:
    case Op::PresentParticipants:
    case Op::RoomAuditTrail:
    case Op::IsBanned:
    case Op::GetRow:
    case Op::Stats:
      return true;
    default:
      return false;
  }
}

class Builder {
 public:
  explicit Builder(uint64_t id) : id_(id) {}
  fb::FlatBufferBuilder& fbb() { return fbb_; }

  std::vector<uint8_t> Finish(const absl::Status& status, wire::Result type = wire::Result::NONE,
                              fb::Offset<void> result = 0) {
    auto message =
        status.ok() ? 0 : fbb_.CreateString(status.message().data(), status.message().size());
    wire::ResponseBuilder r(fbb_);
    r.add_id(id_);
    r.add_code(static_cast<wire::StatusCode>(status.code()));
    if (!status.ok()) r.add_message(message);
    if (status.ok() && type != wire::Result::NONE) {
      r.add_result_type(type);
      r.add_result(result);
    }
    fbb_.FinishSizePrefixed(r.Finish());
    return {fbb_.GetBufferPointer(), fbb_.GetBufferPointer() + fbb_.GetSize()};
  }

 private:
  uint64_t id_;
  fb::FlatBufferBuilder fbb_{512};
};

std::vector<uint8_t> Empty(Builder& b, const absl::Status& s) {
  if (!s.ok()) return b.Finish(s);
  return b.Finish(s, wire::Result::Empty, wire::CreateEmpty(b.fbb()).Union());
}

std::vector<uint8_t> Rows(Builder& b, const Database& db, TableId table,
                          const std::vector<RowId>& rows, std::optional<Uuid> next) {
  std::vector<fb::Offset<fb::String>> json;
  for (RowId r : rows) json.push_back(b.fbb().CreateString(RowToJson(db, table, r)));
  auto vec = b.fbb().CreateVector(json);
  const wire::Uuid next_id = ToWire(next.value_or(Uuid{}));
  return b.Finish(absl::OkStatus(), wire::Result::RowsResult,
                  wire::CreateRowsResult(b.fbb(), vec, next ? &next_id : nullptr).Union());
}

// The request's field values as the generic operations take them; the
// views point into the request buffer.
absl::StatusOr<std::vector<NamedValue>> Fields(
    const fb::Vector<fb::Offset<wire::FieldValue>>* fields) {
  std::vector<NamedValue> out;
  if (fields == nullptr) return out;
  for (const auto* f : *fields) {
    NamedValue nv{View(f->column()), Value()};
    switch (f->kind()) {
      case wire::ValueKind::Null:
        break;
      case wire::ValueKind::Int:
        nv.value = Value(f->int_value());
        break;
      case wire::ValueKind::String:
        nv.value = Value(View(f->string_value()));
        break;
      case wire::ValueKind::Uuid:
        nv.value = Value(FromWire(f->uuid_value()));
        break;
      default:
        return absl::InvalidArgumentError(StrCat("column ", nv.column, ": bad value kind"));
    }
    out.push_back(nv);
  }
  return out;
}

absl::StatusOr<TableId> TableArg(const fb::String* name) {
  auto t = FindTable(View(name));
  if (!t.ok()) return absl::InvalidArgumentError(t.status().message());
  return *t;
}

std::vector<uint8_t> Execute(EngineParts& e, const wire::Request& req, Builder& b, Timestamp now) {
  Database& db = *e.db;
  const OpContext ctx{.now = now};
  switch (req.op_type()) {
    case Op::RegisterUser: {
      const auto* op = req.op_as_RegisterUser();
      auto r = RegisterUser(db, ctx,
                            {.username = View(op->username()),
                             .email = View(op->email()),
                             .password_hash = View(op->password_hash()),
                             .display_name = View(op->display_name())});
      if (!r.ok()) return b.Finish(r.status());
      const auto u = ToWire(r->user_id), a = ToWire(r->auth_provider_id), w = ToWire(r->wallet_id);
      return b.Finish(absl::OkStatus(), wire::Result::RegisterUserResult,
                      wire::CreateRegisterUserResult(b.fbb(), &u, &a, &w).Union());
    }
    case Op::CreateAndOpenRoom: {
      const auto* op = req.op_as_CreateAndOpenRoom();
      std::vector<std::string_view> tags;
      if (op->tags() != nullptr) {
        for (const auto* t : *op->tags()) tags.push_back(View(t));
      }
      RoomSettings settings{.is_public = op->is_public()};
      if (op->max_participants() != 0) settings.max_participants = op->max_participants();
      if (!tags.empty()) settings.tags = std::span<const std::string_view>(tags);
      auto r = CreateAndOpenRoom(db, ctx,
                                 {.owner_id = FromWire(op->owner_id()),
                                  .room_code = View(op->room_code()),
                                  .title = View(op->title()),
                                  .settings = settings});
      if (!r.ok()) return b.Finish(r.status());
      const auto room = ToWire(r->room_id), host = ToWire(r->host_participant_id);
      auto code = b.fbb().CreateString(r->room_code);
      return b.Finish(absl::OkStatus(), wire::Result::CreateRoomResult,
                      wire::CreateCreateRoomResult(b.fbb(), &room, code, &host).Union());
    }
    case Op::JoinRoom: {
      const auto* op = req.op_as_JoinRoom();
      auto r = JoinRoom(db, ctx, FromWire(op->room_id()), FromWire(op->user_id()));
      if (!r.ok()) return b.Finish(r.status());
      const auto p = ToWire(r->participant_id);
      auto role = b.fbb().CreateString(std::string(EnumName(EnumId::ParticipantRole, r->role)));
      return b.Finish(
          absl::OkStatus(), wire::Result::JoinRoomResult,
          wire::CreateJoinRoomResult(b.fbb(), &p, role, r->muted, r->room_started).Union());
    }
    case Op::LeaveRoom: {
      const auto* op = req.op_as_LeaveRoom();
      return Empty(b, LeaveRoom(db, ctx, FromWire(op->room_id()), FromWire(op->user_id())));
    }
    case Op::SetMuted: {
      const auto* op = req.op_as_SetMuted();
      return Empty(b, SetMuted(db, ctx, FromWire(op->room_id()), FromWire(op->actor_id()),
                               FromWire(op->target_id()), op->muted()));
    }
    case Op::SetHandRaised: {
      const auto* op = req.op_as_SetHandRaised();
      return Empty(b, SetHandRaised(db, ctx, FromWire(op->room_id()), FromWire(op->actor_id()),
                                    FromWire(op->target_id()), op->raised()));
    }
    case Op::EndRoom: {
      const auto* op = req.op_as_EndRoom();
      return Empty(b, EndRoom(db, ctx, FromWire(op->room_id()), FromWire(op->actor_id())));
    }
    case Op::TopUp: {
      const auto* op = req.op_as_TopUp();
      auto r = TopUp(db, ctx,
                     {.user_id = FromWire(op->user_id()),
                      .amount = op->amount(),
                      .idempotency_key = View(op->idempotency_key())});
      if (!r.ok()) return b.Finish(r.status());
      const auto t = ToWire(r->transfer_id);
      return b.Finish(absl::OkStatus(), wire::Result::TransferResult,
                      wire::CreateTransferResult(b.fbb(), &t, nullptr, 0, r->already_done).Union());
    }
    case Op::Gift: {
      const auto* op = req.op_as_Gift();
      std::optional<Uuid> room;
      if (op->room_id() != nullptr) room = FromWire(op->room_id());
      auto r = Gift(db, ctx,
                    {.sender_id = FromWire(op->sender_id()),
                     .receiver_id = FromWire(op->receiver_id()),
                     .amount = op->amount(),
                     .room_id = room,
                     .idempotency_key = View(op->idempotency_key())});
      if (!r.ok()) return b.Finish(r.status());
      const auto t = ToWire(r->gift_id);
      const auto f = ToWire(r->fee_id.value_or(Uuid{}));
      return b.Finish(
          absl::OkStatus(), wire::Result::TransferResult,
          wire::CreateTransferResult(b.fbb(), &t, r->fee_id ? &f : nullptr, r->fee, r->already_done)
              .Union());
    }
    case Op::UserByEmail: {
      const RowId u = FindUserByEmail(db, View(req.op_as_UserByEmail()->email()));
      if (u == kNoRow) return b.Finish(absl::NotFoundError("no user has that email"));
      return Rows(b, db, TableId::users, {u}, std::nullopt);
    }
    case Op::PresentParticipants: {
      auto room = GetRow(db, TableId::rooms, FromWire(req.op_as_PresentParticipants()->room_id()));
      if (!room.ok()) return b.Finish(room.status());
      std::vector<ParticipantState> present;
      PresentParticipants(db, *room, &present);
      const Table& parts = db.table(TableId::room_participants);
      const Table& users = db.table(TableId::users);
      std::vector<fb::Offset<wire::Participant>> out;
      for (const ParticipantState& p : present) {
        const auto pid = ToWire(parts.id(p.participant)), uid = ToWire(users.id(p.user));
        auto role = b.fbb().CreateString(std::string(EnumName(EnumId::ParticipantRole, p.role)));
        out.push_back(wire::CreateParticipant(b.fbb(), &pid, &uid, role, p.muted, p.hand_raised,
                                              p.speaking, p.joined_at));
      }
      auto vec = b.fbb().CreateVector(out);
      return b.Finish(absl::OkStatus(), wire::Result::ParticipantsResult,
                      wire::CreateParticipantsResult(b.fbb(), vec).Union());
    }
    case Op::RoomAuditTrail: {
      const auto* op = req.op_as_RoomAuditTrail();
      auto room = GetRow(db, TableId::rooms, FromWire(op->room_id()));
      if (!room.ok()) return b.Finish(room.status());
      if (op->limit() == 0 || op->limit() > 1000) {
        return b.Finish(absl::InvalidArgumentError("limit must be 1..1000"));
      }
      std::optional<PageCursor> after;
      if (op->after() != nullptr) {
        auto row = GetRow(db, TableId::audit_logs, FromWire(op->after()));
        if (!row.ok()) return b.Finish(row.status());
        after = PageCursor{0, *row};
      }
      std::vector<RowId> rows;
      auto next = RoomAuditTrail(db, *room, op->limit(), after, &rows);
      std::optional<Uuid> next_id;
      if (next) next_id = db.table(TableId::audit_logs).id(next->row);
      return Rows(b, db, TableId::audit_logs, rows, next_id);
    }
    case Op::IsBanned: {
      const auto* op = req.op_as_IsBanned();
      auto room = GetRow(db, TableId::rooms, FromWire(op->room_id()));
      auto user = room.ok() ? GetRow(db, TableId::users, FromWire(op->user_id())) : room;
      if (!user.ok()) return b.Finish(user.status());
      return b.Finish(absl::OkStatus(), wire::Result::BoolResult,
                      wire::CreateBoolResult(b.fbb(), IsBanned(db, *room, *user)).Union());
    }
    case Op::GetRow: {
      const auto* op = req.op_as_GetRow();
      auto table = FindTable(View(op->table()));
      if (!table.ok()) return b.Finish(absl::InvalidArgumentError(table.status().message()));
      auto row = GetRow(db, *table, FromWire(op->id()));
      if (!row.ok()) return b.Finish(row.status());
      return Rows(b, db, *table, {*row}, std::nullopt);
    }
    case Op::InsertRow: {
      const auto* op = req.op_as_InsertRow();
      auto table = TableArg(op->table());
      auto fields = table.ok() ? Fields(op->values()) : table.status();
      if (!fields.ok()) return b.Finish(fields.status());
      auto id = InsertRow(db, ctx, *table, *fields);
      if (!id.ok()) return b.Finish(id.status());
      const auto w = ToWire(*id);
      return b.Finish(absl::OkStatus(), wire::Result::IdResult,
                      wire::CreateIdResult(b.fbb(), &w).Union());
    }
    case Op::UpdateRow: {
      const auto* op = req.op_as_UpdateRow();
      auto table = TableArg(op->table());
      auto fields = table.ok() ? Fields(op->values()) : table.status();
      if (!fields.ok()) return b.Finish(fields.status());
      return Empty(b, UpdateRow(db, ctx, *table, FromWire(op->id()), *fields));
    }
    case Op::DeleteRow: {
      const auto* op = req.op_as_DeleteRow();
      auto table = TableArg(op->table());
      if (!table.ok()) return b.Finish(table.status());
      return Empty(b, DeleteRow(db, ctx, *table, FromWire(op->id())));
    }
    case Op::Stats: {
      std::vector<fb::Offset<wire::TableStats>> tables;
      for (const TableDef& def : kTables) {
        const Table& t = db.table(def.id);
        tables.push_back(wire::CreateTableStats(b.fbb(),
                                                b.fbb().CreateString(std::string(def.name)),
                                                t.live_count(), t.ColumnBytes(), t.IndexBytes()));
      }
      auto vec = b.fbb().CreateVector(tables);
      auto durability = b.fbb().CreateString(std::string(DurabilityName(e.durability)));
      return b.Finish(absl::OkStatus(), wire::Result::StatsResult,
                      wire::CreateStatsResult(b.fbb(), vec, db.commits(),
                                              e.wal ? e.wal->durable_lsn() : 0, durability)
                          .Union());
    }
    case Op::Checkpoint: {
      if (e.checkpointer == nullptr) {
        return b.Finish(absl::FailedPreconditionError("this server has no data directory"));
      }
      auto pause = e.checkpointer->Start(db, e.sink ? e.sink->last_lsn() : 0);
      if (!pause.ok()) return b.Finish(pause.status());
      auto info = e.checkpointer->Wait();
      if (!info.ok()) return b.Finish(info.status());
      auto path = b.fbb().CreateString(info->path);
      return b.Finish(
          absl::OkStatus(), wire::Result::CheckpointResult,
          wire::CreateCheckpointResult(b.fbb(), path, info->lsn, info->bytes, *pause * 1e6)
              .Union());
    }
    case Op::Hello:
      return b.Finish(absl::FailedPreconditionError("Hello is only the first request"));
    case Op::NONE:
      break;
  }
  return b.Finish(absl::UnimplementedError("unknown operation"));
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kReadOnly:
      return "readonly";
    case Role::kApp:
      return "app";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::vector<uint8_t> ErrorFrame(uint64_t id, const absl::Status& status) {
  Builder b(id);
  return b.Finish(status);
}

Dispatched Dispatch(EngineParts& engine, const wire::Request& request, Role role, Timestamp now) {
  Builder b(request.id());
  const Op op = request.op_type();
  if (role == Role::kReadOnly && !IsRead(op)) {
    return {b.Finish(absl::PermissionDeniedError("a readonly token may only read")), 0};
  }
  if (role != Role::kAdmin && op == Op::Checkpoint) {
    return {b.Finish(absl::PermissionDeniedError("only an admin token may take a checkpoint")), 0};
  }
  if (role != Role::kAdmin && (op == Op::InsertRow || op == Op::UpdateRow || op == Op::DeleteRow)) {
    return {b.Finish(absl::PermissionDeniedError(
                "generic writes are administration: they need an admin token")),
            0};
  }
  if (!IsRead(op) && engine.sink != nullptr && !engine.sink->status().ok()) {
    return {b.Finish(engine.sink->status()), 0};  // fail-stop: no more writes
  }
  std::vector<uint8_t> frame = Execute(engine, request, b, now);
  if (!IsRead(op) && engine.sink != nullptr && !engine.sink->status().ok()) {
    // The log stopped while this transaction was being appended: it must
    // not be acknowledged.
    return {ErrorFrame(request.id(), engine.sink->status()), 0};
  }
  // Whatever the answer could have seen must be durable before it leaves.
  const uint64_t lsn =
      request.read_unsynced() || engine.sink == nullptr ? 0 : engine.sink->last_lsn();
  return {std::move(frame), lsn};
}

}  // namespace vox::net
