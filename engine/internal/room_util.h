// Room and participant steps shared by several operations (leave, end a
// room), run inside the caller's transaction. Private to engine/.
#ifndef VOXDB_ENGINE_INTERNAL_ROOM_UTIL_H_
#define VOXDB_ENGINE_INTERNAL_ROOM_UTIL_H_

#include <optional>

#include "engine/internal/op_util.h"

namespace vox::internal {

// In-room authority: HOST 3 > CO_HOST 2 > PARTICIPANT 1.
int RoleRank(ParticipantRole role);

// The user's present participation in the room, or kNoRow.
RowId FindPresent(const Database& db, RowId room, RowId user);

// Marks a present participant as left now: left_at, duration_seconds, hand
// lowered, room participant_count - 1, open call sessions ended. No audit.
void LeaveInTxn(Txn& txn, RowId participant);

// LIVE -> ENDED: everyone present leaves, active recordings stop, audit
// ROOM_ENDED (by `actor`, which may be kNoRow for system work).
void EndRoomInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId actor);

// The effects of host and moderator actions, without permission checks
// (callers check). Each writes its own audit row, by `actor`.
void KickInTxn(Txn& txn, const OpContext& ctx, RowId participant, RowId actor,
               std::string_view reason);
// Bans `user` from `room` (removing them if present). AlreadyExists if banned.
absl::Status BanInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId user, RowId actor,
                      std::string_view reason, std::optional<Timestamp> expires_at);
// Lifts a ban; false if the user is not banned there.
bool UnbanInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId user, RowId actor);
// Mutes (or unmutes) a participant as a host does.
void HostMuteInTxn(Txn& txn, const OpContext& ctx, RowId participant, RowId actor, bool muted,
                   std::optional<Timestamp> expires_at);
// Soft-deletes a room, ending it first if LIVE.
void DeleteRoomInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId actor);

// Account steps (engine/ops/identity.cc).
void SetAccountStatusInTxn(Txn& txn, const OpContext& ctx, RowId actor, RowId user,
                           AccountStatus status, std::string_view reason,
                           std::optional<Timestamp> until);
// The seed's soft-delete flow for `user`; `actor` may be kNoRow (system).
void DeleteUserInTxn(Txn& txn, const OpContext& ctx, RowId user, RowId actor);

}  // namespace vox::internal

#endif  // VOXDB_ENGINE_INTERNAL_ROOM_UTIL_H_
