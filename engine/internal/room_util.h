// Room and participant steps shared by several operations (leave, end a
// room), run inside the caller's transaction. Private to engine/.
#ifndef VOXDB_ENGINE_INTERNAL_ROOM_UTIL_H_
#define VOXDB_ENGINE_INTERNAL_ROOM_UTIL_H_

#include "engine/internal/op_util.h"

namespace vox::internal {

// The user's present participation in the room, or kNoRow.
RowId FindPresent(const Database& db, RowId room, RowId user);

// Marks a present participant as left now: left_at, duration_seconds, hand
// lowered, room participant_count - 1, open call sessions ended. No audit.
void LeaveInTxn(Txn& txn, RowId participant);

// LIVE -> ENDED: everyone present leaves, active recordings stop, audit
// ROOM_ENDED (by `actor`, which may be kNoRow for system work).
void EndRoomInTxn(Txn& txn, const OpContext& ctx, RowId room, RowId actor);

}  // namespace vox::internal

#endif  // VOXDB_ENGINE_INTERNAL_ROOM_UTIL_H_
