// Identity operations: registration, sign-in, profile, account status and
// platform role, linked login providers, and the seed's soft-delete flow.
// Each is one atomic transaction that writes its audit rows.
#ifndef VOXDB_ENGINE_OPS_IDENTITY_H_
#define VOXDB_ENGINE_OPS_IDENTITY_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

// ---- Registration (seed: User Registration Flow, plus the user's wallet) ----
struct RegisterUserRequest {
  std::string_view username;       // 3-32 of [A-Za-z0-9_.]; unique, case-insensitive
  std::string_view email;          // unique, case-insensitive
  std::string_view password_hash;  // computed by the platform; stored, never shown
  std::string_view display_name;   // 1-64 bytes
  std::optional<std::string_view> bio, avatar_url, locale, country, timezone;
};
struct RegisterUserResult {
  Uuid user_id, auth_provider_id, wallet_id;
};
// users + auth_providers(LOCAL) + wallets(COIN) + audit USER_REGISTERED.
// AlreadyExists if the username or email is taken; InvalidArgument on a
// malformed field.
absl::StatusOr<RegisterUserResult> RegisterUser(Database& db, const OpContext& ctx,
                                                const RegisterUserRequest& req);

// ---- Sign-in ----------------------------------------------------------------
// The platform verifies credentials itself (it holds the hashing scheme) and
// records the outcome here.
struct LoginRequest {
  std::optional<Uuid> user_id;  // unset when the identifier matched no user
  std::string_view identifier;  // what was typed (email/username), for the audit row
  AuthProviderType provider = AuthProviderType::LOCAL;
  bool credentials_ok = false;
  std::string_view failure_reason;  // e.g. "bad_password"
};
enum class LoginOutcome : uint8_t { kSucceeded, kBadCredentials, kAccountNotActive, kUnknownUser };
struct LoginResult {
  LoginOutcome outcome;
  AccountStatus account_status = AccountStatus::ACTIVE;
};
// Success: last_login_at, failed_login_count = 0, the provider's last_used_at,
// audit USER_LOGIN_SUCCESS. Any failure (bad credentials, unknown user, an
// account that is not ACTIVE) is recorded as USER_LOGIN_FAILED and returned
// as an outcome, not an error: the failed attempt is itself data.
absl::StatusOr<LoginResult> RecordLogin(Database& db, const OpContext& ctx,
                                        const LoginRequest& req);
absl::Status Logout(Database& db, const OpContext& ctx, const Uuid& user_id);

// ---- Profile ----------------------------------------------------------------
struct ProfileUpdate {
  std::optional<std::string_view> username, email, display_name;
  // For these, an empty string clears the field.
  std::optional<std::string_view> bio, avatar_url, locale, country, timezone;
};
// Changes the given fields; a new email clears is_verified. Audit
// PROFILE_UPDATED listing the fields changed.
absl::Status UpdateProfile(Database& db, const OpContext& ctx, const Uuid& user_id,
                           const ProfileUpdate& update);
absl::Status VerifyEmail(Database& db, const OpContext& ctx, const Uuid& user_id);

// ---- Account status and platform role ---------------------------------------
// Roles are ordered USER < MODERATOR < ADMIN < SUPER_ADMIN. An actor may change
// the status of a user whose role is below theirs, and must be ADMIN+
// (moderators suspend and ban through TakeModerationAction).
// SUSPENDED takes an optional `until` (lifted by RunMaintenance). SUSPENDED
// and BANNED users leave every room they are in and their live rooms end.
// DELETED is not set here: use DeleteUser.
struct AccountStatusChange {
  Uuid actor_id, user_id;
  AccountStatus status;
  std::string_view reason;
  std::optional<Timestamp> until;
};
absl::Status SetAccountStatus(Database& db, const OpContext& ctx,
                              const AccountStatusChange& change);
// ADMIN+ may grant or remove roles strictly below their own, to users whose
// current role is below their own. Audit ROLE_CHANGED {from, to}.
absl::Status SetUserRole(Database& db, const OpContext& ctx, const Uuid& actor_id,
                         const Uuid& user_id, UserRole role);
// The operator's grant (an admin token with no acting user): any role, to
// any ACTIVE user, so a new platform can make its first ADMIN. Audit
// ROLE_CHANGED {from, to, "by":"operator"} with no acting user.
absl::Status SetUserRoleByOperator(Database& db, const OpContext& ctx, const Uuid& user_id,
                                   UserRole role);

// ---- Login providers ---------------------------------------------------------
struct LinkProviderRequest {
  Uuid user_id;
  AuthProviderType provider;
  std::string_view provider_id;  // the provider's subject id
  std::string_view provider_email, access_token, refresh_token, metadata_json;
  std::optional<Timestamp> token_expires_at;
};
// AlreadyExists if that provider account is linked to anyone.
absl::StatusOr<Uuid> LinkAuthProvider(Database& db, const OpContext& ctx,
                                      const LinkProviderRequest& req);
// Deletes the link (its tokens with it). Refused for a user's last provider.
absl::Status UnlinkAuthProvider(Database& db, const OpContext& ctx, const Uuid& user_id,
                                const Uuid& auth_provider_id);

// ---- Seed: Soft Delete User Flow ---------------------------------------------
// 1. the user: deleted_at, email null, display_name 'Deleted User' (and the
//    password hash and profile cleared; status DELETED); 2. owned LIVE rooms
// ENDED; 3. every present participation left; 4. owned recordings soft-
// deleted; 5. audit USER_LOGOUT {"reason":"account_deleted"}; 6. audit rows
// stay. Login providers are deleted (cascade: no orphaned tokens).
// `actor_id` is the user, or an ACTIVE ADMIN+ of a higher role than the
// user's.
absl::Status DeleteUser(Database& db, const OpContext& ctx, const Uuid& actor_id,
                        const Uuid& user_id);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_IDENTITY_H_
