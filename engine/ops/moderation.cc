#include "engine/ops/moderation.h"

#include <vector>

#include "engine/internal/op_util.h"
#include "engine/internal/room_util.h"
#include "engine/txn.h"

namespace vox {
namespace {

using internal::Audit;
using internal::JsonString;
using internal::UserName;

constexpr size_t kModerationExpiry = IndexNo("moderation_expiry");
constexpr size_t kMuteExpiry = IndexNo("participants_mute_expiry");
constexpr size_t kBanExpiry = IndexNo("participants_ban_expiry");
constexpr size_t kSuspensionEnd = IndexNo("users_suspension_end");

bool IsRoomAction(ModerationActionType t) {
  return t == ModerationActionType::MUTE || t == ModerationActionType::KICK ||
         t == ModerationActionType::ROOM_BAN;
}

int PlatformRank(const Database& db, RowId user) {
  return static_cast<int>(db.table(TableId::users).GetEnum<UserRole>(user, users::role));
}

int RoomRank(const Database& db, RowId room, RowId user) {
  const RowId p = internal::FindPresent(db, room, user);
  if (p == kNoRow) return 0;
  return internal::RoleRank(
      db.table(TableId::room_participants).GetEnum<ParticipantRole>(p, room_participants::role));
}

absl::Status CheckAuthority(const Database& db, RowId moderator, RowId target, RowId room,
                            ModerationActionType type) {
  const bool platform_mod = PlatformRank(db, moderator) >= static_cast<int>(UserRole::MODERATOR);
  VOX_RETURN_IF_ERROR(internal::CheckPlatformRank(db, moderator, target, "moderate"));
  if (platform_mod) return absl::OkStatus();
  if (room == kNoRow || !IsRoomAction(type)) {
    return absl::PermissionDeniedError(StrCat(UserName(db, moderator),
                                              " is not a moderator; hosts may only mute, kick "
                                              "or ban in their room"));
  }
  const int mine = RoomRank(db, room, moderator);
  if (mine < 2 || mine <= RoomRank(db, room, target)) {
    return absl::PermissionDeniedError(StrCat(UserName(db, moderator), " does not outrank ",
                                              UserName(db, target), " in ",
                                              internal::RoomName(db, room)));
  }
  return absl::OkStatus();
}

// Applies the lasting effect of a new action.
absl::Status ApplyEffect(Txn& txn, const OpContext& ctx, const ModerationRequest& req,
                         RowId moderator, RowId target, RowId room) {
  const Database& db = txn.db();
  switch (req.type) {
    case ModerationActionType::WARNING:
      return absl::OkStatus();
    case ModerationActionType::MUTE:
    case ModerationActionType::KICK: {
      const RowId p = internal::FindPresent(db, room, target);
      if (p == kNoRow) {
        return absl::FailedPreconditionError(
            StrCat(UserName(db, target), " is not in ", internal::RoomName(db, room)));
      }
      if (req.type == ModerationActionType::MUTE) {
        internal::HostMuteInTxn(txn, ctx, p, moderator, true, req.expires_at);
      } else {
        internal::KickInTxn(txn, ctx, p, moderator, req.reason);
      }
      return absl::OkStatus();
    }
    case ModerationActionType::ROOM_BAN:
      return internal::BanInTxn(txn, ctx, room, target, moderator, req.reason, req.expires_at);
    case ModerationActionType::SUSPENSION:
    case ModerationActionType::PLATFORM_BAN:
      internal::SetAccountStatusInTxn(txn, ctx, moderator, target,
                                      req.type == ModerationActionType::SUSPENSION
                                          ? AccountStatus::SUSPENDED
                                          : AccountStatus::BANNED,
                                      req.reason, req.expires_at);
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

// Undoes the lasting effect of an action, where it still holds.
void UndoEffect(Txn& txn, const OpContext& ctx, RowId action, RowId actor) {
  const Database& db = txn.db();
  const Table& mods = db.table(TableId::moderation_actions);
  const RowId target = mods.GetRef(action, moderation_actions::target_user_id);
  const RowId room = mods.GetRef(action, moderation_actions::room_id);
  switch (mods.GetEnum<ModerationActionType>(action, moderation_actions::action_type)) {
    case ModerationActionType::MUTE: {
      const RowId p = internal::FindPresent(db, room, target);
      const Table& parts = db.table(TableId::room_participants);
      if (p != kNoRow && parts.GetBool(p, room_participants::is_muted) &&
          parts.GetBool(p, room_participants::muted_by_host)) {
        internal::HostMuteInTxn(txn, ctx, p, actor, false, std::nullopt);
      }
      break;
    }
    case ModerationActionType::ROOM_BAN:
      internal::UnbanInTxn(txn, ctx, room, target, actor);
      break;
    case ModerationActionType::SUSPENSION:
    case ModerationActionType::PLATFORM_BAN: {
      const auto status =
          db.table(TableId::users).GetEnum<AccountStatus>(target, users::account_status);
      if (status == AccountStatus::SUSPENDED || status == AccountStatus::BANNED) {
        internal::SetAccountStatusInTxn(txn, ctx, actor, target, AccountStatus::ACTIVE,
                                        "restriction lifted", std::nullopt);
      }
      break;
    }
    case ModerationActionType::WARNING:
    case ModerationActionType::KICK:
      break;
  }
}

template <typename Fn>
std::vector<RowId> ExpiredRows(const Database& db, size_t index, Timestamp now, Fn&& keep) {
  std::vector<RowId> rows;
  const OrderedTableIndex& ix = db.ordered(index);
  auto [low, high] = ix.PrefixRange({});
  const IndexKey last = ix.KeyFor({now}, UINT32_MAX);
  ix.tree().Scan(low, std::min(high, last), [&](IndexKey k) {
    const RowId r = ix.RowOf(k);
    if (keep(r)) rows.push_back(r);
    return true;
  });
  return rows;
}

}  // namespace

absl::StatusOr<Uuid> TakeModerationAction(Database& db, const OpContext& ctx,
                                          const ModerationRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(RowId moderator, internal::ResolveActingUser(db, req.moderator_id));
    VOX_ASSIGN_OR_RETURN(RowId target,
                         internal::ResolveActive(db, TableId::users, req.target_user_id, "user"));
    if (moderator == target)
      return absl::InvalidArgumentError("moderators cannot act on themselves");
    if (req.reason.empty()) return absl::InvalidArgumentError("a moderation action needs a reason");
    RowId room = kNoRow;
    if (req.room_id) {
      VOX_ASSIGN_OR_RETURN(room, internal::Resolve(db, TableId::rooms, *req.room_id, "room"));
    } else if (IsRoomAction(req.type)) {
      return absl::InvalidArgumentError(
          StrCat(EnumName(EnumId::ModerationActionType, req.type), " needs a room"));
    }
    if (req.expires_at && *req.expires_at <= ctx.now) {
      return absl::InvalidArgumentError("the expiry must be in the future");
    }
    if (req.expires_at &&
        (req.type == ModerationActionType::WARNING || req.type == ModerationActionType::KICK)) {
      return absl::InvalidArgumentError("warnings and kicks do not expire");
    }
    VOX_RETURN_IF_ERROR(CheckAuthority(db, moderator, target, room, req.type));
    const RowId action = txn.Insert(
        TableId::moderation_actions,
        {{moderation_actions::action_type, req.type},
         {moderation_actions::moderator_id, moderator},
         {moderation_actions::target_user_id, target},
         {moderation_actions::room_id, internal::RefOrNull(room)},
         {moderation_actions::reason, req.reason},
         {moderation_actions::expires_at, req.expires_at ? Value(*req.expires_at) : Value()}});
    if (action == kNoRow) return txn.status();
    VOX_RETURN_IF_ERROR(ApplyEffect(txn, ctx, req, moderator, target, room));
    const std::string type(EnumName(EnumId::ModerationActionType, req.type));
    txn.Insert(TableId::notifications, {{notifications::recipient_id, target},
                                        {notifications::kind, NotificationKind::MODERATION_NOTICE},
                                        {notifications::actor_id, moderator},
                                        {notifications::room_id, internal::RefOrNull(room)},
                                        {notifications::title, StrCat("Moderation: ", type)},
                                        {notifications::body, req.reason}});
    const Uuid id = db.table(TableId::moderation_actions).id(action);
    Audit(txn, ctx, AuditAction::MODERATION_ACTION_TAKEN, moderator, room, target,
          StrCat(R"({"action_id":")", FormatUuid(id), R"(","type":")", type, R"(","reason":)",
                 JsonString(req.reason), "}"));
    return id;
  });
}

absl::Status RevokeModerationAction(Database& db, const OpContext& ctx, const Uuid& action_id,
                                    const Uuid& revoker_id, std::string_view reason) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId revoker, internal::ResolveActingUser(db, revoker_id));
    VOX_ASSIGN_OR_RETURN(RowId action, internal::Resolve(db, TableId::moderation_actions, action_id,
                                                         "moderation action"));
    if (PlatformRank(db, revoker) < static_cast<int>(UserRole::MODERATOR)) {
      return absl::PermissionDeniedError(
          StrCat(UserName(db, revoker), " is not a moderator; cannot revoke actions"));
    }
    const Table& mods = db.table(TableId::moderation_actions);
    VOX_RETURN_IF_ERROR(internal::CheckPlatformRank(
        db, revoker, mods.GetRef(action, moderation_actions::target_user_id),
        "revoke an action on"));
    if (!mods.IsNull(action, moderation_actions::revoked_at)) {
      return absl::FailedPreconditionError("the action is already revoked");
    }
    if (!mods.IsNull(action, moderation_actions::lifted_at)) {
      return absl::FailedPreconditionError("the action has already expired");
    }
    UndoEffect(txn, ctx, action, revoker);
    txn.Set(TableId::moderation_actions, action, moderation_actions::revoked_at, ctx.now);
    txn.Set(TableId::moderation_actions, action, moderation_actions::revoked_by, revoker);
    txn.Set(TableId::moderation_actions, action, moderation_actions::revoke_reason,
            reason.empty() ? Value() : Value(reason));
    Audit(txn, ctx, AuditAction::MODERATION_ACTION_REVOKED, revoker,
          mods.GetRef(action, moderation_actions::room_id),
          mods.GetRef(action, moderation_actions::target_user_id),
          StrCat(R"({"action_id":")", FormatUuid(action_id), R"("})"));
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> LiftExpiredRestrictions(Database& db, const OpContext& ctx) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<int64_t> {
    int64_t lifted = 0;
    for (RowId a : ExpiredRows(db, kModerationExpiry, ctx.now, [](RowId) { return true; })) {
      UndoEffect(txn, ctx, a, kNoRow);
      txn.Set(TableId::moderation_actions, a, moderation_actions::lifted_at, ctx.now);
      const Table& mods = db.table(TableId::moderation_actions);
      Audit(txn, ctx, AuditAction::MODERATION_ACTION_EXPIRED, kNoRow,
            mods.GetRef(a, moderation_actions::room_id),
            mods.GetRef(a, moderation_actions::target_user_id),
            StrCat(R"({"action_id":")", FormatUuid(mods.id(a)), R"("})"));
      ++lifted;
    }
    const Table& parts = db.table(TableId::room_participants);
    for (RowId p : ExpiredRows(db, kMuteExpiry, ctx.now, [](RowId) { return true; })) {
      if (parts.GetBool(p, room_participants::is_muted)) {
        internal::HostMuteInTxn(txn, ctx, p, kNoRow, false, std::nullopt);
      } else {
        txn.Set(TableId::room_participants, p, room_participants::mute_expires_at, nullptr);
      }
      ++lifted;
    }
    for (RowId p : ExpiredRows(db, kBanExpiry, ctx.now, [](RowId) { return true; })) {
      internal::UnbanInTxn(txn, ctx, parts.GetRef(p, room_participants::room_id),
                           parts.GetRef(p, room_participants::user_id), kNoRow);
      ++lifted;
    }
    const Table& users = db.table(TableId::users);
    for (RowId u : ExpiredRows(db, kSuspensionEnd, ctx.now, [](RowId) { return true; })) {
      if (users.GetEnum<AccountStatus>(u, users::account_status) == AccountStatus::SUSPENDED) {
        internal::SetAccountStatusInTxn(txn, ctx, kNoRow, u, AccountStatus::ACTIVE,
                                        "suspension ended", std::nullopt);
      } else {
        txn.Set(TableId::users, u, users::suspended_until, nullptr);
      }
      ++lifted;
    }
    return lifted;
  });
}

}  // namespace vox
