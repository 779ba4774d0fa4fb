// The platform's hot reads (WORKLOAD.md R1-R4, R6-R8), answered from the
// indexes made for them. They return row ids and small structs: cheap to
// produce, and the caller (the server) materialises only what it sends.
// Soft-deleted rows are skipped unless said otherwise.
#ifndef VOXDB_ENGINE_OPS_QUERIES_H_
#define VOXDB_ENGINE_OPS_QUERIES_H_

#include <optional>
#include <string_view>
#include <vector>

#include "engine/database.h"

namespace vox {

// R1: the live user with this email (case-insensitive), or kNoRow.
RowId FindUserByEmail(const Database& db, std::string_view email);
RowId FindUserByUsername(const Database& db, std::string_view username);

// One present participant's live state.
struct ParticipantState {
  RowId participant, user;
  ParticipantRole role;
  bool muted, hand_raised, speaking, screen_sharing;
  Timestamp joined_at;
  Timestamp hand_raised_at;  // 0 unless hand_raised
};
// R2: a room's present participants (left_at IS NULL), in join order.
void PresentParticipants(const Database& db, RowId room, std::vector<ParticipantState>* out);

// R3: the participations of a user that are present now (left_at IS NULL).
void UserPresentRooms(const Database& db, RowId user, std::vector<RowId>* participants);

// Where a page of a newest-first listing stopped: its last row (and, for
// listings ordered by a time, that row's time).
struct PageCursor {
  Timestamp time = 0;
  RowId row = kNoRow;
};
// R4: a room's audit rows, newest first, `limit` per page; pass the returned
// cursor back for the next page (none when the trail is exhausted).
std::optional<PageCursor> RoomAuditTrail(const Database& db, RowId room, size_t limit,
                                         std::optional<PageCursor> after, std::vector<RowId>* out);
// The same, for the audit rows a user caused.
std::optional<PageCursor> UserAuditTrail(const Database& db, RowId user, size_t limit,
                                         std::optional<PageCursor> after, std::vector<RowId>* out);

// R6: a room and aggregates over its participations.
struct RoomStats {
  RowId room;
  int64_t participations = 0;  // every join (a rejoin counts again)
  int64_t present = 0;
  int64_t total_duration_seconds = 0;  // of those who left
  double average_duration_seconds = 0;
};
RoomStats RoomStatistics(const Database& db, RowId room);

// R7: public LIVE rooms carrying the tag, newest started first.
std::optional<PageCursor> LiveRoomsByTag(const Database& db, std::string_view tag, size_t limit,
                                         std::optional<PageCursor> after, std::vector<RowId>* out);
// The tag's row, or kNoRow.
RowId FindTag(const Database& db, std::string_view name);

// R8: whether the user is banned from the room.
bool IsBanned(const Database& db, RowId room, RowId user);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_QUERIES_H_
