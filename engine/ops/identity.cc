#include "engine/ops/identity.h"

#include <algorithm>
#include <vector>

#include "engine/internal/op_util.h"
#include "engine/internal/room_util.h"
#include "engine/txn.h"

namespace vox {
namespace {

using internal::Audit;
using internal::JsonString;
using internal::UserName;

constexpr size_t kEmail = IndexNo("users_email");
constexpr size_t kUsername = IndexNo("users_username");
constexpr size_t kProviderKey = IndexNo("auth_providers_provider");
constexpr size_t kProvidersByUser = IndexNo("auth_providers_by_user");
constexpr size_t kPresentByUser = IndexNo("participants_present_by_user");
constexpr size_t kRoomsByOwner = IndexNo("rooms_by_owner");
constexpr size_t kRecordingsByOwner = IndexNo("recordings_by_owner");

absl::Status CheckUsername(std::string_view name) {
  const bool ok =
      name.size() >= 3 && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.';
      });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("username '", name.substr(0, 40), "' must be 3-32 of [A-Za-z0-9_.]"));
}

absl::Status CheckEmail(std::string_view email) {
  const size_t at = email.find('@');
  const bool ok = at != std::string_view::npos && at > 0 && at + 1 < email.size() &&
                  email.find('@', at + 1) == std::string_view::npos &&
                  email.find('.', at + 2) != std::string_view::npos && email.back() != '.' &&
                  email.size() <= 254 && std::none_of(email.begin(), email.end(), [](char c) {
                    return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' ||
                           c == ',' || c == ';' || static_cast<unsigned char>(c) >= 0x7f;
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("'", email.substr(0, 60), "' is not an email address"));
}

absl::Status CheckDisplayName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("display_name may not be empty");
  return absl::OkStatus();
}

absl::Status CheckFree(const Database& db, size_t index, std::string_view key,
                       std::string_view what, RowId except = kNoRow) {
  const Value probe[] = {Value(key)};
  const RowId r = db.hash(index).Find(probe);
  if (r != kNoRow && r != except) {
    return absl::AlreadyExistsError(StrCat(what, " '", key, "' is already registered"));
  }
  return absl::OkStatus();
}

Value OptionalString(std::string_view s) { return s.empty() ? Value() : Value(s); }

int RoleRank(const Database& db, RowId user) {
  return static_cast<int>(db.table(TableId::users).GetEnum<UserRole>(user, users::role));
}

// Removes a user from every room and ends the live rooms they own.
void RemoveFromRooms(Txn& txn, const OpContext& ctx, RowId user) {
  const Database& db = txn.db();
  const Table& rooms = db.table(TableId::rooms);
  std::vector<RowId> owned_live;
  db.range(kRoomsByOwner).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId r) {
    if (rooms.GetEnum<RoomStatus>(r, rooms::status) == RoomStatus::LIVE) owned_live.push_back(r);
    return true;
  });
  for (RowId r : owned_live) internal::EndRoomInTxn(txn, ctx, r, user);
  std::vector<RowId> present;
  db.range(kPresentByUser).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId p) {
    present.push_back(p);
    return true;
  });
  const Table& parts = db.table(TableId::room_participants);
  for (RowId p : present) {
    internal::LeaveInTxn(txn, p);
    Audit(txn, ctx, AuditAction::USER_LEFT, user, parts.GetRef(p, room_participants::room_id),
          kNoRow);
  }
}

}  // namespace

absl::StatusOr<RegisterUserResult> RegisterUser(Database& db, const OpContext& ctx,
                                                const RegisterUserRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<RegisterUserResult> {
    VOX_RETURN_IF_ERROR(CheckUsername(req.username));
    VOX_RETURN_IF_ERROR(CheckEmail(req.email));
    VOX_RETURN_IF_ERROR(CheckDisplayName(req.display_name));
    if (req.password_hash.empty()) return absl::InvalidArgumentError("password_hash is required");
    VOX_RETURN_IF_ERROR(CheckFree(db, kUsername, req.username, "username"));
    VOX_RETURN_IF_ERROR(CheckFree(db, kEmail, req.email, "email"));
    auto opt = [](const std::optional<std::string_view>& v) {
      return v && !v->empty() ? Value(*v) : Value();
    };
    const RowId user = txn.Insert(TableId::users, {{users::username, req.username},
                                                   {users::email, req.email},
                                                   {users::password_hash, req.password_hash},
                                                   {users::display_name, req.display_name},
                                                   {users::bio, opt(req.bio)},
                                                   {users::avatar_url, opt(req.avatar_url)},
                                                   {users::locale, opt(req.locale)},
                                                   {users::country, opt(req.country)},
                                                   {users::timezone, opt(req.timezone)}});
    if (user == kNoRow) return txn.status();
    const Uuid user_id = db.table(TableId::users).id(user);
    const std::string local_id = FormatUuid(user_id);
    const RowId provider = txn.Insert(TableId::auth_providers,
                                      {{auth_providers::user_id, user},
                                       {auth_providers::provider_type, AuthProviderType::LOCAL},
                                       {auth_providers::provider_id, local_id},
                                       {auth_providers::provider_email, req.email}});
    const RowId wallet = txn.Insert(TableId::wallets, {{wallets::user_id, user}});
    if (!txn.ok()) return txn.status();
    Audit(txn, ctx, AuditAction::USER_REGISTERED, user, kNoRow, kNoRow);
    return RegisterUserResult{user_id, db.table(TableId::auth_providers).id(provider),
                              db.table(TableId::wallets).id(wallet)};
  });
}

absl::StatusOr<LoginResult> RecordLogin(Database& db, const OpContext& ctx,
                                        const LoginRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<LoginResult> {
    const std::string provider(EnumName(EnumId::AuthProviderType, req.provider));
    auto failed = [&](RowId user, LoginOutcome outcome, std::string_view reason) {
      Audit(txn, ctx, AuditAction::USER_LOGIN_FAILED, user, kNoRow, kNoRow,
            StrCat(R"({"reason":)", JsonString(reason), R"(,"provider":")", provider,
                   R"(","identifier":)", JsonString(req.identifier.substr(0, 254)), "}"));
      return outcome;
    };
    LoginResult result{LoginOutcome::kSucceeded};
    if (!req.user_id) {
      result.outcome = failed(kNoRow, LoginOutcome::kUnknownUser, "unknown_user");
      return result;
    }
    VOX_ASSIGN_OR_RETURN(RowId user, internal::Resolve(db, TableId::users, *req.user_id, "user"));
    const Table& users = db.table(TableId::users);
    result.account_status = users.GetEnum<AccountStatus>(user, users::account_status);
    if (!req.credentials_ok) {
      txn.Set(TableId::users, user, users::failed_login_count,
              users.GetInt(user, users::failed_login_count) + 1);
      result.outcome = failed(user, LoginOutcome::kBadCredentials,
                              req.failure_reason.empty() ? "bad_credentials" : req.failure_reason);
      return result;
    }
    if (result.account_status != AccountStatus::ACTIVE) {
      result.outcome =
          failed(user, LoginOutcome::kAccountNotActive,
                 StrCat("account_", EnumName(EnumId::AccountStatus, result.account_status)));
      return result;
    }
    txn.Set(TableId::users, user, users::last_login_at, ctx.now);
    txn.Set(TableId::users, user, users::failed_login_count, 0);
    const Table& providers = db.table(TableId::auth_providers);
    RowId used = kNoRow;
    db.range(kProvidersByUser).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId p) {
      if (providers.GetEnum<AuthProviderType>(p, auth_providers::provider_type) == req.provider) {
        used = p;
      }
      return used == kNoRow;
    });
    if (used == kNoRow) {
      return absl::FailedPreconditionError(
          StrCat(UserName(db, user), " has no ", provider, " sign-in linked"));
    }
    txn.Set(TableId::auth_providers, used, auth_providers::last_used_at, ctx.now);
    Audit(txn, ctx, AuditAction::USER_LOGIN_SUCCESS, user, kNoRow, kNoRow,
          StrCat(R"({"provider":")", provider, R"("})"));
    return result;
  });
}

absl::Status Logout(Database& db, const OpContext& ctx, const Uuid& user_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    Audit(txn, ctx, AuditAction::USER_LOGOUT, user, kNoRow, kNoRow);
    return absl::OkStatus();
  });
}

absl::Status UpdateProfile(Database& db, const OpContext& ctx, const Uuid& user_id,
                           const ProfileUpdate& u) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    std::vector<std::string_view> changed;
    auto set = [&](ColumnId c, const Value& v) {
      txn.Set(TableId::users, user, c, v);
      changed.push_back(GetTable(TableId::users).columns[c].name);
    };
    if (u.username) {
      VOX_RETURN_IF_ERROR(CheckUsername(*u.username));
      VOX_RETURN_IF_ERROR(CheckFree(db, kUsername, *u.username, "username", user));
      set(users::username, *u.username);
    }
    if (u.email) {
      VOX_RETURN_IF_ERROR(CheckEmail(*u.email));
      VOX_RETURN_IF_ERROR(CheckFree(db, kEmail, *u.email, "email", user));
      set(users::email, *u.email);
      txn.Set(TableId::users, user, users::is_verified, false);
    }
    if (u.display_name) {
      VOX_RETURN_IF_ERROR(CheckDisplayName(*u.display_name));
      set(users::display_name, *u.display_name);
    }
    if (u.bio) set(users::bio, OptionalString(*u.bio));
    if (u.avatar_url) set(users::avatar_url, OptionalString(*u.avatar_url));
    if (u.locale) set(users::locale, OptionalString(*u.locale));
    if (u.country) set(users::country, OptionalString(*u.country));
    if (u.timezone) set(users::timezone, OptionalString(*u.timezone));
    if (changed.empty()) return absl::InvalidArgumentError("no profile field given");
    std::string fields;
    for (std::string_view f : changed) fields += StrCat(fields.empty() ? "" : ",", "\"", f, "\"");
    Audit(txn, ctx, AuditAction::PROFILE_UPDATED, user, kNoRow, kNoRow,
          StrCat(R"({"fields":[)", fields, "]}"));
    return absl::OkStatus();
  });
}

absl::Status VerifyEmail(Database& db, const OpContext& ctx, const Uuid& user_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    if (db.table(TableId::users).IsNull(user, users::email)) {
      return absl::FailedPreconditionError(StrCat(UserName(db, user), " has no email"));
    }
    txn.Set(TableId::users, user, users::is_verified, true);
    Audit(txn, ctx, AuditAction::PROFILE_UPDATED, user, kNoRow, kNoRow,
          R"({"fields":["is_verified"]})");
    return absl::OkStatus();
  });
}

absl::Status SetAccountStatus(Database& db, const OpContext& ctx,
                              const AccountStatusChange& change) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId actor, internal::ResolveActingUser(db, change.actor_id));
    VOX_ASSIGN_OR_RETURN(RowId user,
                         internal::ResolveActive(db, TableId::users, change.user_id, "user"));
    if (change.status == AccountStatus::DELETED) {
      return absl::InvalidArgumentError("use DeleteUser to delete an account");
    }
    // Moderators suspend and ban through TakeModerationAction, which keeps
    // the decision as a moderation action.
    if (RoleRank(db, actor) < static_cast<int>(UserRole::ADMIN)) {
      return absl::PermissionDeniedError(StrCat(
          UserName(db, actor),
          " is not an admin; cannot change account status (moderators use moderation actions)"));
    }
    if (actor == user || RoleRank(db, actor) <= RoleRank(db, user)) {
      return absl::PermissionDeniedError(StrCat(UserName(db, actor),
                                                " cannot change the status of ", UserName(db, user),
                                                " (equal or higher role)"));
    }
    if (change.until && change.status != AccountStatus::SUSPENDED) {
      return absl::InvalidArgumentError("only a suspension takes an end time");
    }
    if (change.until && *change.until <= ctx.now) {
      return absl::InvalidArgumentError("the suspension must end in the future");
    }
    internal::SetAccountStatusInTxn(txn, ctx, actor, user, change.status, change.reason,
                                    change.until);
    return absl::OkStatus();
  });
}

absl::Status SetUserRole(Database& db, const OpContext& ctx, const Uuid& actor_id,
                         const Uuid& user_id, UserRole role) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId actor, internal::ResolveActingUser(db, actor_id));
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    const int actor_rank = RoleRank(db, actor);
    if (actor_rank < static_cast<int>(UserRole::ADMIN)) {
      return absl::PermissionDeniedError(
          StrCat(UserName(db, actor), " is not an admin; cannot change roles"));
    }
    if (static_cast<int>(role) >= actor_rank || RoleRank(db, user) >= actor_rank) {
      return absl::PermissionDeniedError(
          StrCat(UserName(db, actor), " may only grant roles below their own, to users below it"));
    }
    const UserRole from = db.table(TableId::users).GetEnum<UserRole>(user, users::role);
    if (from == role) return absl::OkStatus();
    txn.Set(TableId::users, user, users::role, role);
    Audit(txn, ctx, AuditAction::ROLE_CHANGED, actor, kNoRow, user,
          StrCat(R"({"from":")", EnumName(EnumId::UserRole, from), R"(","to":")",
                 EnumName(EnumId::UserRole, role), R"("})"));
    return absl::OkStatus();
  });
}

absl::Status SetUserRoleByOperator(Database& db, const OpContext& ctx, const Uuid& user_id,
                                   UserRole role) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActingUser(db, user_id));
    const UserRole from = db.table(TableId::users).GetEnum<UserRole>(user, users::role);
    if (from == role) return absl::OkStatus();
    txn.Set(TableId::users, user, users::role, role);
    Audit(txn, ctx, AuditAction::ROLE_CHANGED, kNoRow, kNoRow, user,
          StrCat(R"({"from":")", EnumName(EnumId::UserRole, from), R"(","to":")",
                 EnumName(EnumId::UserRole, role), R"(","by":"operator"})"));
    return absl::OkStatus();
  });
}

absl::StatusOr<Uuid> LinkAuthProvider(Database& db, const OpContext& ctx,
                                      const LinkProviderRequest& req) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActingUser(db, req.user_id));
    if (req.provider_id.empty()) return absl::InvalidArgumentError("provider_id is required");
    const Value key[] = {Value(req.provider), Value(req.provider_id)};
    if (db.hash(kProviderKey).Find(key) != kNoRow) {
      return absl::AlreadyExistsError(StrCat(EnumName(EnumId::AuthProviderType, req.provider),
                                             " account '", req.provider_id.substr(0, 64),
                                             "' is already linked to a user"));
    }
    const RowId p =
        txn.Insert(TableId::auth_providers,
                   {{auth_providers::user_id, user},
                    {auth_providers::provider_type, req.provider},
                    {auth_providers::provider_id, req.provider_id},
                    {auth_providers::provider_email, OptionalString(req.provider_email)},
                    {auth_providers::access_token, OptionalString(req.access_token)},
                    {auth_providers::refresh_token, OptionalString(req.refresh_token)},
                    {auth_providers::token_expires_at,
                     req.token_expires_at ? Value(*req.token_expires_at) : Value()},
                    {auth_providers::metadata, OptionalString(req.metadata_json)}});
    if (p == kNoRow) return txn.status();
    Audit(txn, ctx, AuditAction::AUTH_PROVIDER_LINKED, user, kNoRow, kNoRow,
          StrCat(R"({"provider":")", EnumName(EnumId::AuthProviderType, req.provider), R"("})"));
    return db.table(TableId::auth_providers).id(p);
  });
}

absl::Status UnlinkAuthProvider(Database& db, const OpContext& ctx, const Uuid& user_id,
                                const Uuid& auth_provider_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    VOX_ASSIGN_OR_RETURN(
        RowId p, internal::Resolve(db, TableId::auth_providers, auth_provider_id, "auth provider"));
    const Table& providers = db.table(TableId::auth_providers);
    if (providers.GetRef(p, auth_providers::user_id) != user) {
      return absl::PermissionDeniedError("that auth provider belongs to another user");
    }
    size_t count = db.range(kProvidersByUser).ScanPrefix({static_cast<int64_t>(user)}, [](RowId) {
      return true;
    });
    if (count <= 1) {
      return absl::FailedPreconditionError(
          StrCat("cannot unlink the last sign-in method of ", UserName(db, user)));
    }
    const auto type = providers.GetEnum<AuthProviderType>(p, auth_providers::provider_type);
    txn.Delete(TableId::auth_providers, p);
    Audit(txn, ctx, AuditAction::AUTH_PROVIDER_UNLINKED, user, kNoRow, kNoRow,
          StrCat(R"({"provider":")", EnumName(EnumId::AuthProviderType, type), R"("})"));
    return absl::OkStatus();
  });
}

absl::Status DeleteUser(Database& db, const OpContext& ctx, const Uuid& actor_id,
                        const Uuid& user_id) {
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId user, internal::ResolveActive(db, TableId::users, user_id, "user"));
    // Users may delete their own account whatever its status; deleting
    // someone else's takes an ACTIVE ADMIN+ of a higher role.
    RowId actor = user;
    if (actor_id != user_id) {
      VOX_ASSIGN_OR_RETURN(actor, internal::ResolveActingUser(db, actor_id));
      if (RoleRank(db, actor) < static_cast<int>(UserRole::ADMIN) ||
          RoleRank(db, actor) <= RoleRank(db, user)) {
        return absl::PermissionDeniedError(
            StrCat(UserName(db, actor), " may not delete ", UserName(db, user)));
      }
    }
    internal::DeleteUserInTxn(txn, ctx, user, actor);
    return absl::OkStatus();
  });
}

namespace internal {

void SetAccountStatusInTxn(Txn& txn, const OpContext& ctx, RowId actor, RowId user,
                           AccountStatus status, std::string_view reason,
                           std::optional<Timestamp> until) {
  const Table& users = txn.table(TableId::users);
  const AccountStatus from = users.GetEnum<AccountStatus>(user, users::account_status);
  txn.Set(TableId::users, user, users::account_status, status);
  txn.Set(TableId::users, user, users::is_active, status == AccountStatus::ACTIVE);
  txn.Set(TableId::users, user, users::status_reason, OptionalString(reason));
  txn.Set(TableId::users, user, users::suspended_until, until ? Value(*until) : Value());
  if (status != AccountStatus::ACTIVE) RemoveFromRooms(txn, ctx, user);
  Audit(txn, ctx, AuditAction::ACCOUNT_STATUS_CHANGED, actor, kNoRow, user,
        StrCat(R"({"from":")", EnumName(EnumId::AccountStatus, from), R"(","to":")",
               EnumName(EnumId::AccountStatus, status), R"(","reason":)", JsonString(reason), "}"));
}

void DeleteUserInTxn(Txn& txn, const OpContext& ctx, RowId user, RowId actor) {
  const Database& db = txn.db();
  // 1. Anonymise the user.
  txn.Set(TableId::users, user, users::deleted_at, ctx.now);
  txn.Set(TableId::users, user, users::email, nullptr);
  txn.Set(TableId::users, user, users::display_name, "Deleted User");
  txn.Set(TableId::users, user, users::password_hash, nullptr);
  for (ColumnId c : {users::bio, users::avatar_url, users::locale, users::country, users::timezone,
                     users::status_reason, users::suspended_until}) {
    txn.Set(TableId::users, user, c, nullptr);
  }
  txn.Set(TableId::users, user, users::account_status, AccountStatus::DELETED);
  txn.Set(TableId::users, user, users::is_active, false);
  // 2-3. End owned live rooms; leave every room.
  RemoveFromRooms(txn, ctx, user);
  // 4. Soft-delete owned recordings.
  const Table& recs = db.table(TableId::recordings);
  std::vector<RowId> owned;
  db.range(kRecordingsByOwner).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId r) {
    if (recs.IsNull(r, recordings::deleted_at)) owned.push_back(r);
    return true;
  });
  for (RowId r : owned) txn.Set(TableId::recordings, r, recordings::deleted_at, ctx.now);
  // Cascade: login providers (and their tokens) go.
  std::vector<RowId> providers;
  db.range(kProvidersByUser).ScanPrefix({static_cast<int64_t>(user)}, [&](RowId p) {
    providers.push_back(p);
    return true;
  });
  for (RowId p : providers) txn.Delete(TableId::auth_providers, p);
  // 5. The audit row; 6. earlier audit rows stay, pointing at the anonymised user.
  Audit(txn, ctx, AuditAction::USER_LOGOUT, user, kNoRow, actor == user ? kNoRow : actor,
        R"({"reason":"account_deleted"})");
}

}  // namespace internal
}  // namespace vox
