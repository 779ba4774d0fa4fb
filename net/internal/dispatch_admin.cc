// Administration on the wire: generic writes by table name
// (engine/ops/generic.h), statistics, checkpoints, snapshots, maintenance.
// Dispatch lets only admin tokens run them (Stats aside).
#include <algorithm>
#include <vector>

#include "engine/ops/generic.h"
#include "engine/ops/maintenance.h"
#include "net/internal/dispatch_util.h"
#include "net/metrics.h"
#include "wal/checkpoint.h"
#include "wal/file_io.h"

namespace vox::net {
namespace {

using wire::Op;

absl::StatusOr<TableId> TableArg(const fb::String* name) {
  auto t = FindTable(View(name));
  if (!t.ok()) return absl::InvalidArgumentError(t.status().message());
  return *t;
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
        if (f->uuid_value() == nullptr) {
          return absl::InvalidArgumentError(
              StrCat("column ", nv.column, ": uuid_value is missing"));
        }
        nv.value = Value(FromWire(*f->uuid_value()));
        break;
      default:
        return absl::InvalidArgumentError(StrCat("column ", nv.column, ": bad value kind"));
    }
    out.push_back(nv);
  }
  return out;
}

Outcome DoInsertRow(Call& c, const wire::InsertRow& op) {
  VOX_ASSIGN_OR_RETURN(const TableId table, TableArg(op.table()));
  VOX_ASSIGN_OR_RETURN(const std::vector<NamedValue> fields, Fields(op.values()));
  return c.Id(InsertRow(c.db, c.ctx, table, fields));
}

Outcome DoUpdateRow(Call& c, const wire::UpdateRow& op) {
  VOX_ASSIGN_OR_RETURN(const TableId table, TableArg(op.table()));
  Args a;
  const Uuid id = a.Id(op.id(), "id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const std::vector<NamedValue> fields, Fields(op.values()));
  return c.Empty(UpdateRow(c.db, c.ctx, table, id, fields));
}

Outcome DoDeleteRow(Call& c, const wire::DeleteRow& op) {
  VOX_ASSIGN_OR_RETURN(const TableId table, TableArg(op.table()));
  Args a;
  const Uuid id = a.Id(op.id(), "id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(DeleteRow(c.db, c.ctx, table, id));
}

Outcome DoStats(Call& c) {
  std::vector<fb::Offset<wire::TableStats>> tables;
  for (const TableDef& def : kTables) {
    const Table& t = c.db.table(def.id);
    tables.push_back(wire::CreateTableStats(c.fbb, c.Str(def.name), t.live_count(), t.ColumnBytes(),
                                            t.IndexBytes()));
  }
  auto vec = c.fbb.CreateVector(tables);
  auto durability = c.Str(DurabilityName(c.engine.durability));
  wire::StatsResultBuilder r(c.fbb);
  r.add_tables(vec);
  r.add_commits(c.db.commits());
  r.add_durable_lsn(c.engine.wal ? c.engine.wal->durable_lsn() : 0);
  r.add_durability(durability);
  if (c.engine.metrics != nullptr) {
    const MetricsSnapshot m = c.engine.metrics->Snapshot();
    uint64_t requests = 0, errors = 0;
    for (const MetricsSnapshot::Op& op : m.ops) {
      requests += op.requests;
      errors += op.errors;
    }
    r.add_connections(static_cast<uint32_t>(std::max<int64_t>(m.connections_open, 0)));
    r.add_requests(requests);
    r.add_errors(errors);
    r.add_uptime_seconds(m.uptime_seconds);
    if (m.wal) {
      r.add_wal_batches(m.wal->batches);
      r.add_wal_syncs(m.wal->syncs);
      r.add_wal_bytes(m.wal->bytes);
    }
    if (m.snapshot_age_seconds) r.add_snapshot_age_seconds(*m.snapshot_age_seconds);
  }
  return c.Result(wire::Result::StatsResult, r.Finish());
}

Outcome DoCheckpoint(Call& c) {
  EngineParts& e = c.engine;
  if (e.checkpointer == nullptr) {
    return absl::FailedPreconditionError("this server has no data directory");
  }
  // Once the log has stopped, memory holds writes that were refused: a
  // snapshot of them would bring them back at the next restart.
  if (e.wal != nullptr && !e.wal->status().ok()) return e.wal->status();
  auto pause = e.checkpointer->Start(c.db, e.sink ? e.sink->last_lsn() : 0);
  if (!pause.ok()) return pause.status();
  auto info = e.checkpointer->Wait();
  if (!info.ok()) return info.status();
  auto path = c.Str(info->path);
  return c.Result(wire::Result::CheckpointResult,
                  wire::CreateCheckpointResult(c.fbb, path, info->lsn, info->bytes, *pause * 1e6));
}

Outcome DoListSnapshots(Call& c) {
  if (c.engine.data_dir.empty()) {
    return absl::FailedPreconditionError("this server has no data directory");
  }
  std::vector<fb::Offset<wire::SnapshotEntry>> out;
  for (const SnapshotEntry& s : ListSnapshots(PosixFileIo(), c.engine.data_dir)) {
    auto path = c.Str(s.path);
    if (!s.info.ok()) {
      const absl::string_view message = s.info.status().message();
      auto error = c.Str(std::string_view(message.data(), message.size()));
      wire::SnapshotEntryBuilder b(c.fbb);
      b.add_path(path);
      b.add_error(error);
      out.push_back(b.Finish());
      continue;
    }
    const SnapshotInfo& i = *s.info;
    out.push_back(wire::CreateSnapshotEntry(c.fbb, path, i.lsn, W(i.database_id), i.schema_version,
                                            i.created_at, i.total_rows, i.bytes));
  }
  auto vec = c.fbb.CreateVector(out);
  return c.Result(wire::Result::SnapshotsResult, wire::CreateSnapshotsResult(c.fbb, vec));
}

Outcome DoRunMaintenance(Call& c) {
  auto r = RunMaintenance(c.db, c.ctx);
  if (!r.ok()) return r.status();
  return c.Result(
      wire::Result::MaintenanceResult,
      wire::CreateMaintenanceResult(c.fbb, r->restrictions_lifted, r->recordings_deleted,
                                    r->reservations_voided, r->subscriptions_expired));
}

}  // namespace

std::optional<Outcome> ExecuteAdmin(Call& c, Op type, const void* op) {
  switch (type) {
    case Op::InsertRow:
      return DoInsertRow(c, *As<wire::InsertRow>(op));
    case Op::UpdateRow:
      return DoUpdateRow(c, *As<wire::UpdateRow>(op));
    case Op::DeleteRow:
      return DoDeleteRow(c, *As<wire::DeleteRow>(op));
    case Op::Stats:
      return DoStats(c);
    case Op::Checkpoint:
      return DoCheckpoint(c);
    case Op::ListSnapshots:
      return DoListSnapshots(c);
    case Op::RunMaintenance:
      return DoRunMaintenance(c);
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
