// Helpers shared by the operation implementations (engine/ops/*.cc).
// Private to engine/.
#ifndef VOXDB_ENGINE_INTERNAL_OP_UTIL_H_
#define VOXDB_ENGINE_INTERNAL_OP_UTIL_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "engine/ops/context.h"
#include "engine/txn.h"
#include "schema/str.h"

namespace vox::internal {

inline constexpr ColumnId kNoColumn = UINT16_MAX;
// The table's deleted_at column, or kNoColumn.
ColumnId FindColumnWithFlagCached(TableId t);

// The live row with primary key `id` in `t`, or NotFound: "<what> <uuid> not found".
absl::StatusOr<RowId> Resolve(const Database& db, TableId t, const Uuid& id, std::string_view what);

// As Resolve, and FailedPrecondition if the row is soft-deleted.
absl::StatusOr<RowId> ResolveActive(const Database& db, TableId t, const Uuid& id,
                                    std::string_view what);

// A user who may act: live, not deleted, account ACTIVE (a SUSPENDED user
// whose suspension has passed counts as active only after maintenance lifts
// it). PermissionDenied otherwise, naming the status.
absl::StatusOr<RowId> ResolveActingUser(const Database& db, const Uuid& id);

// PermissionDenied unless `user` (a live row) is ACTIVE: for a user who is
// the subject of an operation rather than its actor (a call session's
// participant). `what` completes "user 'x' is SUSPENDED; cannot <what>".
absl::Status CheckAccountActive(const Database& db, RowId user, std::string_view what);

// Platform rank (USER < MODERATOR < ADMIN < SUPER_ADMIN) between an actor and
// the user they act on: anyone may act on a plain USER (the operation's own
// rules still apply), but a MODERATOR or above only by a higher role. So a
// room host cannot mute, kick or ban a platform moderator, nor a moderator
// another moderator. PermissionDenied names both; `what` is the action.
absl::Status CheckPlatformRank(const Database& db, RowId actor, RowId target,
                               std::string_view what);

// Appends an audit row. `user`, `room`, `target` may be kNoRow;
// `metadata_json` may be empty (stored as null).
void Audit(Txn& txn, const OpContext& ctx, AuditAction action, RowId user, RowId room, RowId target,
           std::string_view metadata_json = {});

// A value for a nullable ref column: null for kNoRow.
inline Value RefOrNull(RowId r) { return r == kNoRow ? Value() : Value(r); }

// A JSON string literal for `s` (quoted, escaped), for audit metadata.
std::string JsonString(std::string_view s);

// "room 'k3x9'" style names for messages.
std::string RoomName(const Database& db, RowId room);
std::string UserName(const Database& db, RowId user);

}  // namespace vox::internal

#endif  // VOXDB_ENGINE_INTERNAL_OP_UTIL_H_
