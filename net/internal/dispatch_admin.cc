// Administration on the wire: generic writes by table name
// (engine/ops/generic.h), statistics, checkpoints, snapshots, maintenance,
// schema migrations (engine/ops/migration.h). Dispatch lets only admin
// tokens run them (Stats and GetSchema aside).
#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "engine/ops/generic.h"
#include "engine/ops/maintenance.h"
#include "engine/ops/migration.h"
#include "net/internal/dispatch_util.h"
#include "net/metrics.h"
#include "wal/checkpoint.h"
#include "wal/file_io.h"

namespace vox::net {
namespace {

using wire::Op;

// A table by name in the live schema: built in or added by a migration.
absl::StatusOr<TableId> TableArg(const Database& db, const fb::String* name) {
  auto t = db.FindTable(View(name));
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
  VOX_ASSIGN_OR_RETURN(const TableId table, TableArg(c.db, op.table()));
  VOX_ASSIGN_OR_RETURN(const std::vector<NamedValue> fields, Fields(op.values()));
  return c.Id(InsertRow(c.db, c.ctx, table, fields));
}

Outcome DoUpdateRow(Call& c, const wire::UpdateRow& op) {
  VOX_ASSIGN_OR_RETURN(const TableId table, TableArg(c.db, op.table()));
  Args a;
  const Uuid id = a.Id(op.id(), "id");
  VOX_RETURN_IF_ERROR(a.status());
  VOX_ASSIGN_OR_RETURN(const std::vector<NamedValue> fields, Fields(op.values()));
  return c.Empty(UpdateRow(c.db, c.ctx, table, id, fields));
}

Outcome DoDeleteRow(Call& c, const wire::DeleteRow& op) {
  VOX_ASSIGN_OR_RETURN(const TableId table, TableArg(c.db, op.table()));
  Args a;
  const Uuid id = a.Id(op.id(), "id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(DeleteRow(c.db, c.ctx, table, id));
}

Outcome DoStats(Call& c) {
  std::vector<fb::Offset<wire::TableStats>> tables;
  // Every table of the live schema: the built-in ones, then those migrations added.
  for (size_t i = 0; i < c.db.table_count(); ++i) {
    const Table& t = c.db.table(static_cast<TableId>(i));
    tables.push_back(wire::CreateTableStats(c.fbb, c.Str(t.name()), t.live_count(), t.ColumnBytes(),
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

fb::Offset<fb::Vector<fb::Offset<fb::String>>> Strings(Call& c,
                                                       std::span<const std::string> strings) {
  std::vector<fb::Offset<fb::String>> out;
  out.reserve(strings.size());
  for (const std::string& s : strings) out.push_back(c.Str(s));
  return c.fbb.CreateVector(out);
}

// On the engine thread as its own transaction (Dispatch refuses it in a
// batch); answered once the migration's log record is durable, like any
// write. A dry run changes nothing and writes no record.
Outcome DoApplyMigration(Call& c, const wire::ApplyMigration& op) {
  if (View(op.text()).empty()) {
    return absl::InvalidArgumentError(
        "text is required: the migration's statements, starting with `version N`");
  }
  absl::StatusOr<MigrationResult> r =
      ApplyMigration(c.db, c.ctx, View(op.text()),
                     {.confirm_destructive = op.confirm_destructive(), .dry_run = op.dry_run()});
  if (!r.ok()) return r.status();
  auto changes = Strings(c, r->changes);
  auto text = c.Str(r->text);
  return c.Result(wire::Result::MigrationResult,
                  wire::CreateMigrationResult(c.fbb, r->from_version, r->to_version, r->applied,
                                              r->destructive, changes, text));
}

Outcome DoGetSchema(Call& c) {
  auto history = Strings(c, c.db.schema_history());
  auto description = c.Str(DescribeSchema(c.db));
  return c.Result(
      wire::Result::SchemaResult,
      wire::CreateSchemaResult(c.fbb, c.db.schema_version(), kSchemaVersion, history, description));
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
    case Op::ApplyMigration:
      return DoApplyMigration(c, *As<wire::ApplyMigration>(op));
    case Op::GetSchema:
      return DoGetSchema(c);
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
