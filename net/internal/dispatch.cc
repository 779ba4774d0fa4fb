// The dispatcher: roles, the durability gate, Batch, and the response
// envelope. The operations themselves are executed by domain in
// dispatch_<domain>.cc.
#include "net/internal/dispatch.h"

#include <vector>

#include "engine/ops/generic.h"
#include "engine/txn.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

constexpr uint32_t kMaxBatchOps = 1000;

// Reads: allowed for readonly tokens; they never need the fail-stop check.
bool IsRead(Op op) {
  switch (op) {
    case Op::UserByEmail:
    case Op::UserByUsername:
    case Op::PresentParticipants:
    case Op::UserPresentRooms:
    case Op::RoomAuditTrail:
    case Op::UserAuditTrail:
    case Op::RoomStatistics:
    case Op::LiveRoomsByTag:
    case Op::FindTag:
    case Op::IsBanned:
    case Op::GetRow:
    case Op::ExpiredRecordings:
    case Op::GetCallSession:
    case Op::GetWalletBalance:
    case Op::GetSystemWalletBalance:
    case Op::AuditAllWallets:
    case Op::WalletTransactions:
    case Op::ListNotifications:
    case Op::Stats:
    case Op::ListSnapshots:
    case Op::HandRaiseQueue:
    case Op::SearchUsers:
    case Op::SearchRooms:
    case Op::SearchCallSessions:
    case Op::SearchParticipants:
    case Op::SearchModeration:
    case Op::SearchAudit:
    case Op::SearchTransfers:
    case Op::SearchNotifications:
    case Op::GetSchema:
    case Op::Subscribe:    // a stream of what reads would see
    case Op::Unsubscribe:  // one's own stream
      return true;
    default:
      return IsReport(op);
  }
}

bool IsRead(const wire::Batch& batch) {
  if (batch.ops() == nullptr) return true;
  for (const wire::BatchOp* op : *batch.ops()) {
    if (!IsRead(op->op_type())) return false;
  }
  return true;
}

// Ops only an admin token may run.
bool IsAdmin(Op op) {
  switch (op) {
    case Op::Checkpoint:
    case Op::ListSnapshots:
    case Op::RunMaintenance:
    case Op::AuditAllWallets:
    case Op::InsertRow:
    case Op::UpdateRow:
    case Op::DeleteRow:
    case Op::ApplyMigration:
      return true;
    default:
      return false;
  }
}

// The handshake's requests (net/server.cc answers them before any other).
bool IsHandshake(Op op) { return op == Op::Hello || op == Op::ScramProof; }

std::string OpName(Op op) {
  const char* name = wire::EnumNameOp(op);
  return name[0] != '\0' ? std::string(name) : StrCat("op #", static_cast<int>(op));
}

absl::Status CheckRole(Op op, Role role) {
  // Not operations a role grants: refused for what they are, by any token
  // (no operation; the handshake's messages after the handshake).
  if (op == Op::NONE || IsHandshake(op)) return absl::OkStatus();
  if (role == Role::kReadOnly && !IsRead(op)) {
    return absl::PermissionDeniedError("a readonly token may only read");
  }
  if (role == Role::kAdmin || !IsAdmin(op)) return absl::OkStatus();
  switch (op) {
    case Op::Checkpoint:
      return absl::PermissionDeniedError("only an admin token may take a checkpoint");
    case Op::InsertRow:
    case Op::UpdateRow:
    case Op::DeleteRow:
      return absl::PermissionDeniedError(
          "generic writes are administration: they need an admin token");
    case Op::ApplyMigration:
      return absl::PermissionDeniedError("only an admin token may migrate the schema");
    default:
      return absl::PermissionDeniedError(
          StrCat(OpName(op), " is administration: it needs an admin token"));
  }
}

// `s` with its message prefixed by the batch op it came from.
absl::Status InBatch(uint32_t index, Op op, const absl::Status& s) {
  return absl::Status(s.code(), StrCat("batch op ", index, " (", OpName(op), "): ", s.message()));
}

// What a batch may hold, and the role each of its ops needs, before any runs.
absl::Status CheckBatch(const wire::Batch& batch, Role role) {
  if (batch.ops() == nullptr) return absl::OkStatus();
  if (batch.ops()->size() > kMaxBatchOps) {
    return absl::InvalidArgumentError(
        StrCat("a batch holds at most ", kMaxBatchOps, " ops; ", batch.ops()->size(), " given"));
  }
  for (uint32_t i = 0; i < batch.ops()->size(); ++i) {
    const Op op = batch.ops()->Get(i)->op_type();
    switch (op) {
      case Op::NONE:
        return InBatch(i, op, absl::InvalidArgumentError("no operation"));
      case Op::Hello:
      case Op::ScramProof:
      case Op::Batch:
      case Op::Checkpoint:
      case Op::ListSnapshots:
      case Op::Stats:
        return InBatch(i, op, absl::InvalidArgumentError("not allowed in a batch"));
      case Op::ApplyMigration:
        return InBatch(i, op,
                       absl::InvalidArgumentError(
                           "a migration is a transaction of its own: it cannot run in a batch"));
      case Op::Subscribe:
      case Op::Unsubscribe:
        return InBatch(i, op,
                       absl::InvalidArgumentError(
                           "subscriptions belong to the connection: send them on their own"));
      default:
        break;
    }
    if (IsReport(op)) {
      return InBatch(i, op, absl::InvalidArgumentError("reports cannot run in a batch"));
    }
    if (absl::Status s = CheckRole(op, role); !s.ok()) return InBatch(i, op, s);
  }
  return absl::OkStatus();
}

fb::Offset<wire::Response> OkResponse(fb::FlatBufferBuilder& fbb, uint64_t id, const Built& b) {
  wire::ResponseBuilder r(fbb);
  r.add_id(id);
  r.add_code(wire::StatusCode::OK);
  if (b.type != wire::Result::NONE) {
    r.add_result_type(b.type);
    r.add_result(b.offset);
  }
  return r.Finish();
}

// One op (not a Batch).
Outcome ExecuteOp(Call& c, Op type, const void* op) {
  if (type == Op::NONE) return absl::InvalidArgumentError("the request has no operation");
  if (op == nullptr)
    return absl::InvalidArgumentError(StrCat(OpName(type), ": its table is missing"));
  using Domain = std::optional<Outcome> (*)(Call&, Op, const void*);
  for (Domain domain : {ExecuteIdentity, ExecuteRooms, ExecuteMedia, ExecuteLedger,
                        ExecuteNotifications, ExecuteReads, ExecuteSearch, ExecuteAdmin}) {
    if (std::optional<Outcome> r = domain(c, type, op)) return *std::move(r);
  }
  if (type == Op::Hello) return absl::FailedPreconditionError("Hello is only the first request");
  if (type == Op::ScramProof) {
    return absl::FailedPreconditionError("ScramProof is only part of the handshake");
  }
  if (type == Op::Subscribe || type == Op::Unsubscribe) {  // the server answers them itself
    return absl::FailedPreconditionError(
        StrCat(OpName(type), " is answered by the server's connection, not the engine"));
  }
  return absl::UnimplementedError(StrCat("unknown operation ", OpName(type)));
}

// Every op of the batch in one transaction: each sees the earlier ones'
// writes; the first failure rolls them all back.
Outcome ExecuteBatch(Call& c, const wire::Batch& batch) {
  std::vector<fb::Offset<wire::Response>> results;
  const absl::Status s = Transact(c.db, c.ctx.now, [&](Txn&) -> absl::Status {
    if (batch.ops() == nullptr) return absl::OkStatus();
    for (uint32_t i = 0; i < batch.ops()->size(); ++i) {
      const wire::BatchOp* op = batch.ops()->Get(i);
      Outcome r = ExecuteOp(c, op->op_type(), op->op());
      if (!r.ok()) return InBatch(i, op->op_type(), r.status());
      results.push_back(OkResponse(c.fbb, i, *r));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  auto vec = c.fbb.CreateVector(results);
  return c.Result(wire::Result::BatchResult, wire::CreateBatchResult(c.fbb, vec));
}

// A report: checked and pinned here, computed by the deferred task on a
// report thread. Its answer is released once everything the pin saw is
// durable, like any read's.
Dispatched DispatchReport(EngineParts& engine, const wire::Request& request) {
  const uint64_t id = request.id();
  const uint64_t pinned_lsn = engine.sink == nullptr ? 0 : engine.sink->last_lsn();
  const uint64_t lsn = request.read_unsynced() ? 0 : pinned_lsn;
  absl::StatusOr<ReportJob> job =
      PrepareReport(*engine.db, request.op_type(), request.op(), pinned_lsn);
  if (!job.ok()) return {ErrorFrame(id, job.status()), lsn};
  return {{}, lsn, [id, job = *std::move(job)]() -> std::vector<uint8_t> {
            fb::FlatBufferBuilder fbb(4096);
            const Outcome r = job(fbb);
            if (!r.ok()) return ErrorFrame(id, r.status());
            fbb.FinishSizePrefixed(OkResponse(fbb, id, *r));
            return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
          }};
}

}  // namespace

Outcome Call::Rows(TableId table, std::span<const RowId> rows, std::optional<Uuid> next) {
  std::vector<fb::Offset<fb::String>> json;
  json.reserve(rows.size());
  for (RowId r : rows) json.push_back(fbb.CreateString(RowToJson(db, table, r)));
  auto vec = fbb.CreateVector(json);
  return Result(wire::Result::RowsResult, wire::CreateRowsResult(fbb, vec, W(next)));
}

absl::StatusOr<RowId> Call::Row(TableId table, const Uuid& id) { return GetRow(db, table, id); }

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
  fb::FlatBufferBuilder fbb(128);
  auto message = fbb.CreateString(status.message().data(), status.message().size());
  wire::ResponseBuilder r(fbb);
  r.add_id(id);
  r.add_code(static_cast<wire::StatusCode>(status.code()));
  r.add_message(message);
  fbb.FinishSizePrefixed(r.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

Dispatched Dispatch(EngineParts& engine, const wire::Request& request, Role role, Timestamp now) {
  const uint64_t id = request.id();
  const Op op = request.op_type();
  const wire::Batch* batch = request.op_as_Batch();
  const absl::Status allowed = batch != nullptr ? CheckBatch(*batch, role) : CheckRole(op, role);
  if (!allowed.ok()) return {ErrorFrame(id, allowed), 0};
  const bool write = batch != nullptr ? !IsRead(*batch) : !IsRead(op);
  if (write && engine.sink != nullptr && !engine.sink->status().ok()) {
    return {ErrorFrame(id, engine.sink->status()), 0};  // fail-stop: no more writes
  }
  if (batch == nullptr && IsReport(op)) return DispatchReport(engine, request);
  fb::FlatBufferBuilder fbb(512);
  Call call{engine, *engine.db, OpContext{.now = now}, fbb, role};
  ResetTablesTouched();
  const Outcome r =
      batch != nullptr ? ExecuteBatch(call, *batch) : ExecuteOp(call, op, request.op());
  const uint64_t tables_read = TablesTouched();
  if (write && engine.sink != nullptr && !engine.sink->status().ok()) {
    // The log stopped while this transaction was being appended: it must
    // not be acknowledged.
    return {ErrorFrame(id, engine.sink->status()), 0};
  }
  // Whatever the answer could have seen must be durable before it leaves,
  // a refusal included (it may have read state not yet durable). A write
  // waits for itself (the last LSN); a read only for the last transaction
  // that changed a table it looked at, so a user lookup does not wait for
  // the fdatasync of a join it could not have seen. Only a read may opt
  // out: a write is acknowledged once durable, always.
  const bool unsynced = request.read_unsynced() && !write;
  uint64_t lsn = 0;
  if (!unsynced && engine.sink != nullptr) {
    lsn = write || tables_read == 0 ? engine.sink->last_lsn()
                                    : engine.sink->last_lsn_of(tables_read);
  }
  if (!r.ok()) return {ErrorFrame(id, r.status()), lsn};
  fbb.FinishSizePrefixed(OkResponse(fbb, id, *r));
  return {{fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()}, lsn};
}

}  // namespace vox::net
