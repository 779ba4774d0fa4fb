// Moderation actions: a moderator's recorded decision about a user, with its
// effect applied in the same transaction, and its revocation.
//
//   type          scope          effect                           expiry lifts it
//   WARNING       room or none   a MODERATION_NOTICE notification  -
//   MUTE          room           host mute of the present user     yes
//   KICK          room           removed from the room             -
//   ROOM_BAN      room           banned from the room              yes
//   SUSPENSION    platform       account SUSPENDED, leaves rooms   yes
//   PLATFORM_BAN  platform       account BANNED, leaves rooms      yes
//
// Who: platform MODERATOR+ for any action; a room's HOST or CO_HOST for room
// actions in that room. Either way the moderator must outrank the target
// (platform role, and in-room role for room actions).
#ifndef VOXDB_ENGINE_OPS_MODERATION_H_
#define VOXDB_ENGINE_OPS_MODERATION_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

struct ModerationRequest {
  Uuid moderator_id, target_user_id;
  ModerationActionType type;
  std::optional<Uuid> room_id;  // required for MUTE, KICK, ROOM_BAN
  std::string_view reason;      // required
  std::optional<Timestamp> expires_at;
};
// Records the action (audit MODERATION_ACTION_TAKEN plus the effect's own
// audit row) and notifies the target. Returns the action's id.
absl::StatusOr<Uuid> TakeModerationAction(Database& db, const OpContext& ctx,
                                          const ModerationRequest& req);

// Undoes the action's lasting effect (unmute, unban, reactivate) and marks it
// revoked; audit MODERATION_ACTION_REVOKED. FailedPrecondition if already
// revoked or expired. The revoker must be MODERATOR+.
absl::Status RevokeModerationAction(Database& db, const OpContext& ctx, const Uuid& action_id,
                                    const Uuid& revoker_id, std::string_view reason);

// Time-based work: lifts moderation actions, host mutes, room bans and
// account suspensions whose expiry is <= ctx.now. Returns how many it lifted.
absl::StatusOr<int64_t> LiftExpiredRestrictions(Database& db, const OpContext& ctx);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_MODERATION_H_
