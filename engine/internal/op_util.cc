#include "engine/internal/op_util.h"

#include <array>

#include "schema/catalog.h"

namespace vox::internal {

ColumnId FindColumnWithFlagCached(TableId t) {
  static const std::array<ColumnId, kTableCount> deleted_at_columns = [] {
    std::array<ColumnId, kTableCount> out{};
    for (const TableDef& def : kTables) {
      out[static_cast<size_t>(def.id)] = FindColumnWithFlag(def.id, kDeletedAt).value_or(kNoColumn);
    }
    return out;
  }();
  const auto at = static_cast<size_t>(t);
  return at < kTableCount ? deleted_at_columns[at] : kNoColumn;  // added tables: none
}

absl::StatusOr<RowId> Resolve(const Database& db, TableId t, const Uuid& id,
                              std::string_view what) {
  const RowId r = db.table(t).FindById(id);
  if (r == kNoRow) return absl::NotFoundError(StrCat(what, " ", FormatUuid(id), " not found"));
  return r;
}

absl::StatusOr<RowId> ResolveActive(const Database& db, TableId t, const Uuid& id,
                                    std::string_view what) {
  VOX_ASSIGN_OR_RETURN(RowId r, Resolve(db, t, id, what));
  const auto deleted_at = FindColumnWithFlagCached(t);
  if (deleted_at != kNoColumn && !db.table(t).IsNull(r, deleted_at)) {
    return absl::FailedPreconditionError(StrCat(what, " ", FormatUuid(id), " is deleted"));
  }
  return r;
}

absl::StatusOr<RowId> ResolveActingUser(const Database& db, const Uuid& id) {
  VOX_ASSIGN_OR_RETURN(RowId u, ResolveActive(db, TableId::users, id, "user"));
  const Table& users = db.table(TableId::users);
  const auto status = users.GetEnum<AccountStatus>(u, users::account_status);
  if (status != AccountStatus::ACTIVE) {
    return absl::PermissionDeniedError(StrCat("user '", users.GetString(u, users::username),
                                              "' is ", EnumName(EnumId::AccountStatus, status)));
  }
  return u;
}

absl::Status CheckAccountActive(const Database& db, RowId user, std::string_view what) {
  const Table& users = db.table(TableId::users);
  const auto status = users.GetEnum<AccountStatus>(user, users::account_status);
  if (status == AccountStatus::ACTIVE) return absl::OkStatus();
  return absl::PermissionDeniedError(StrCat(
      UserName(db, user), " is ", EnumName(EnumId::AccountStatus, status), "; cannot ", what));
}

absl::Status CheckPlatformRank(const Database& db, RowId actor, RowId target,
                               std::string_view what) {
  const Table& users = db.table(TableId::users);
  const auto mine = users.GetEnum<UserRole>(actor, users::role);
  const auto theirs = users.GetEnum<UserRole>(target, users::role);
  if (theirs == UserRole::USER || mine > theirs) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat(UserName(db, actor), " (", EnumName(EnumId::UserRole, mine), ") cannot ", what, " ",
             UserName(db, target), " (", EnumName(EnumId::UserRole, theirs),
             "): equal or higher platform role"));
}

void Audit(Txn& txn, const OpContext& ctx, AuditAction action, RowId user, RowId room, RowId target,
           std::string_view metadata_json) {
  const ColumnValue values[] = {
      {audit_logs::action, action},
      {audit_logs::user_id, RefOrNull(user)},
      {audit_logs::room_id, RefOrNull(room)},
      {audit_logs::target_user_id, RefOrNull(target)},
      {audit_logs::metadata, metadata_json.empty() ? Value() : Value(metadata_json)},
      {audit_logs::ip_address, ctx.ip_address ? Value(*ctx.ip_address) : Value()},
      {audit_logs::user_agent, ctx.user_agent.empty() ? Value() : Value(ctx.user_agent)},
  };
  txn.Insert(TableId::audit_logs, values);
}

std::string JsonString(std::string_view s) { return JsonQuote(s); }

std::string RoomName(const Database& db, RowId room) {
  return StrCat("room '", db.table(TableId::rooms).GetString(room, rooms::room_code), "'");
}

std::string UserName(const Database& db, RowId user) {
  return StrCat("user '", db.table(TableId::users).GetString(user, users::username), "'");
}

}  // namespace vox::internal
