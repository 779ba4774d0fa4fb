// Room and participant operations: the room lifecycle (CREATED -> LIVE ->
// ENDED, CREATED -> CANCELLED), joining and leaving, live participant state
// (muted, hand raised, speaking, screen sharing), roles, kicks and bans.
// Each is one atomic transaction that writes its audit rows.
//
// In-room authority: HOST > CO_HOST > PARTICIPANT. A host or co-host may act
// on participants whose role is below their own; platform MODERATOR+ may act
// in any room as a host would.
#ifndef VOXDB_ENGINE_OPS_ROOMS_H_
#define VOXDB_ENGINE_OPS_ROOMS_H_

#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

struct RoomSettings {
  std::optional<std::string_view> title, description, language;
  std::optional<Timestamp> scheduled_start, scheduled_end;
  std::optional<int32_t> max_participants;  // 2..10000
  std::optional<bool> is_public, is_recordable, require_auth;
  std::optional<bool> invite_only, mute_on_join, hand_raise_allowed;
  std::optional<std::span<const std::string_view>> tags;  // up to 4; created on first use
  std::optional<Uuid> category_id;                        // nil uuid clears it
};

struct CreateRoomRequest {
  Uuid owner_id;
  std::string_view room_code;  // 4-32 of [a-z0-9-]; empty: one is generated
  std::string_view title;      // required
  RoomSettings settings;       // `title` here is ignored
};
struct CreateRoomResult {
  Uuid room_id;
  std::string room_code;
  Uuid host_participant_id;  // set by CreateAndOpenRoom only
};
// rooms(CREATED) + audit ROOM_CREATED.
absl::StatusOr<CreateRoomResult> CreateRoom(Database& db, const OpContext& ctx,
                                            const CreateRoomRequest& req);
// The seed's Create & Join Room Flow (WORKLOAD W2): create, the owner joins
// as HOST, the room goes LIVE; audit ROOM_CREATED, USER_JOINED, ROOM_STARTED.
absl::StatusOr<CreateRoomResult> CreateAndOpenRoom(Database& db, const OpContext& ctx,
                                                   const CreateRoomRequest& req);

// The owner (or MODERATOR+) changes settings; audit ROOM_UPDATED.
absl::Status UpdateRoomSettings(Database& db, const OpContext& ctx, const Uuid& room_id,
                                const Uuid& actor_id, const RoomSettings& settings);

struct JoinResult {
  Uuid participant_id;
  ParticipantRole role;
  bool muted;         // mute_on_join
  bool room_started;  // the owner's join took the room LIVE
};
// WORKLOAD W3. A LIVE room, or a CREATED one joined by its owner (which starts
// it). Refused: deleted/ENDED/CANCELLED room (FailedPrecondition), banned
// (PermissionDenied), invite-only without an invitation (PermissionDenied),
// full (ResourceExhausted), already present (AlreadyExists), inactive account.
// Updates total_joins, participant_count, peak_participants; audit USER_JOINED.
absl::StatusOr<JoinResult> JoinRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                                    const Uuid& user_id);
// WORKLOAD W4: left_at, duration_seconds, open call sessions ended; audit USER_LEFT.
absl::Status LeaveRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                       const Uuid& user_id);

// WORKLOAD W5. Self-mute and self-unmute, or a host muting a lower role (a
// host mute can carry an expiry; the muted user cannot unmute themselves).
// Here and for kicks and bans, a target's platform role counts too: only a
// higher platform role acts on a MODERATOR+ (internal::CheckPlatformRank).
// Audit USER_MUTED / USER_UNMUTED.
absl::Status SetMuted(Database& db, const OpContext& ctx, const Uuid& room_id, const Uuid& actor_id,
                      const Uuid& target_id, bool muted,
                      std::optional<Timestamp> expires_at = std::nullopt);
// Mutes every present participant below the actor's role; audit ALL_MUTED.
absl::StatusOr<int> MuteAll(Database& db, const OpContext& ctx, const Uuid& room_id,
                            const Uuid& actor_id);
// Raise: self only, when the room allows it. Lower: self or a host.
// Audit HAND_RAISED / HAND_LOWERED.
absl::Status SetHandRaised(Database& db, const OpContext& ctx, const Uuid& room_id,
                           const Uuid& actor_id, const Uuid& target_id, bool raised);
// Audit SCREEN_SHARE_STARTED / SCREEN_SHARE_STOPPED.
absl::Status SetScreenSharing(Database& db, const OpContext& ctx, const Uuid& room_id,
                              const Uuid& user_id, bool sharing);
// Live signals, no audit row (they change many times a second).
absl::Status SetSpeaking(Database& db, const OpContext& ctx, const Uuid& room_id,
                         const Uuid& user_id, bool speaking);
absl::Status SetConnectionStatus(Database& db, const OpContext& ctx, const Uuid& room_id,
                                 const Uuid& user_id, ConnectionStatus status);

// The HOST promotes to / demotes from CO_HOST. Audit ROLE_PROMOTION / ROLE_DEMOTION.
absl::Status ChangeParticipantRole(Database& db, const OpContext& ctx, const Uuid& room_id,
                                   const Uuid& actor_id, const Uuid& target_id,
                                   ParticipantRole role);
// Removes a present participant of lower role. Audit USER_KICKED.
absl::Status KickParticipant(Database& db, const OpContext& ctx, const Uuid& room_id,
                             const Uuid& actor_id, const Uuid& target_id, std::string_view reason);
// Bans a user (present or not) from the room, removing them if present; an
// optional expiry is lifted by RunMaintenance. Audit USER_BANNED.
absl::Status BanFromRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                         const Uuid& actor_id, const Uuid& target_id, std::string_view reason,
                         std::optional<Timestamp> expires_at = std::nullopt);
// Audit USER_UNBANNED. NotFound if the user is not banned there.
absl::Status UnbanFromRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                           const Uuid& actor_id, const Uuid& target_id);

// WORKLOAD W7. LIVE -> ENDED by the owner, the HOST or MODERATOR+: ended_at,
// duration_seconds, every present participant leaves, active recordings
// stop, open call sessions end; audit ROOM_ENDED.
absl::Status EndRoom(Database& db, const OpContext& ctx, const Uuid& room_id, const Uuid& actor_id);
// CREATED -> CANCELLED by the owner or MODERATOR+; audit ROOM_CANCELLED.
absl::Status CancelRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                        const Uuid& actor_id);
// Soft delete by the owner or MODERATOR+ (a LIVE room is ended first).
absl::Status DeleteRoom(Database& db, const OpContext& ctx, const Uuid& room_id,
                        const Uuid& actor_id);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_ROOMS_H_
