// Identity operations on the wire (engine/ops/identity.h).
#include "engine/ops/identity.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

std::string_view OutcomeName(LoginOutcome o) {
  switch (o) {
    case LoginOutcome::kSucceeded:
      return "SUCCEEDED";
    case LoginOutcome::kBadCredentials:
      return "BAD_CREDENTIALS";
    case LoginOutcome::kAccountNotActive:
      return "ACCOUNT_NOT_ACTIVE";
    case LoginOutcome::kUnknownUser:
      return "UNKNOWN_USER";
  }
  return "?";
}

Outcome DoRegisterUser(Call& c, const wire::RegisterUser& op) {
  auto r = RegisterUser(c.db, c.ctx,
                        {.username = View(op.username()),
                         .email = View(op.email()),
                         .password_hash = View(op.password_hash()),
                         .display_name = View(op.display_name()),
                         .bio = OptView(op.bio()),
                         .avatar_url = OptView(op.avatar_url()),
                         .locale = OptView(op.locale()),
                         .country = OptView(op.country()),
                         .timezone = OptView(op.timezone())});
  if (!r.ok()) return r.status();
  return c.Result(wire::Result::RegisterUserResult,
                  wire::CreateRegisterUserResult(c.fbb, W(r->user_id), W(r->auth_provider_id),
                                                 W(r->wallet_id)));
}

Outcome DoRecordLogin(Call& c, const wire::RecordLogin& op) {
  Args a;
  const LoginRequest req{.user_id = OptId(op.user_id()),
                         .identifier = View(op.identifier()),
                         .provider = a.Enum(EnumId::AuthProviderType, op.provider(), "provider",
                                            AuthProviderType::LOCAL),
                         .credentials_ok = op.credentials_ok(),
                         .failure_reason = View(op.failure_reason())};
  VOX_RETURN_IF_ERROR(a.status());
  auto r = RecordLogin(c.db, c.ctx, req);
  if (!r.ok()) return r.status();
  auto outcome = c.Str(OutcomeName(r->outcome));
  auto status = c.Name(EnumId::AccountStatus, r->account_status);
  return c.Result(wire::Result::LoginResult, wire::CreateLoginResult(c.fbb, outcome, status));
}

Outcome DoUpdateProfile(Call& c, const wire::UpdateProfile& op) {
  Args a;
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(UpdateProfile(c.db, c.ctx, user,
                               {.username = OptView(op.username()),
                                .email = OptView(op.email()),
                                .display_name = OptView(op.display_name()),
                                .bio = OptView(op.bio()),
                                .avatar_url = OptView(op.avatar_url()),
                                .locale = OptView(op.locale()),
                                .country = OptView(op.country()),
                                .timezone = OptView(op.timezone())}));
}

Outcome DoSetAccountStatus(Call& c, const wire::SetAccountStatus& op) {
  Args a;
  const AccountStatusChange change{
      .actor_id = a.Id(op.actor_id(), "actor_id"),
      .user_id = a.Id(op.user_id(), "user_id"),
      .status = a.Enum<AccountStatus>(EnumId::AccountStatus, op.status(), "status"),
      .reason = View(op.reason()),
      .until = op.until()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(SetAccountStatus(c.db, c.ctx, change));
}

Outcome DoSetUserRole(Call& c, const wire::SetUserRole& op) {
  Args a;
  const std::optional<Uuid> actor = OptId(op.actor_id());
  const Uuid user = a.Id(op.user_id(), "user_id");
  const auto role = a.Enum<UserRole>(EnumId::UserRole, op.role(), "role");
  VOX_RETURN_IF_ERROR(a.status());
  if (actor) return c.Empty(SetUserRole(c.db, c.ctx, *actor, user, role));
  // No acting user: the operator's grant (how a platform gets its first
  // ADMIN), for an admin token only.
  if (c.role != Role::kAdmin) {
    return absl::PermissionDeniedError(
        "actor_id is required (without it, SetUserRole is the operator's: an admin token)");
  }
  return c.Empty(SetUserRoleByOperator(c.db, c.ctx, user, role));
}

Outcome DoLinkAuthProvider(Call& c, const wire::LinkAuthProvider& op) {
  Args a;
  const LinkProviderRequest req{
      .user_id = a.Id(op.user_id(), "user_id"),
      .provider = a.Enum<AuthProviderType>(EnumId::AuthProviderType, op.provider(), "provider"),
      .provider_id = View(op.provider_id()),
      .provider_email = View(op.provider_email()),
      .access_token = View(op.access_token()),
      .refresh_token = View(op.refresh_token()),
      .metadata_json = View(op.metadata_json()),
      .token_expires_at = op.token_expires_at()};
  VOX_RETURN_IF_ERROR(a.status());
  return c.Id(LinkAuthProvider(c.db, c.ctx, req));
}

Outcome DoUnlinkAuthProvider(Call& c, const wire::UnlinkAuthProvider& op) {
  Args a;
  const Uuid user = a.Id(op.user_id(), "user_id");
  const Uuid provider = a.Id(op.auth_provider_id(), "auth_provider_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(UnlinkAuthProvider(c.db, c.ctx, user, provider));
}

// Ops taking only the user: Logout, VerifyEmail.
template <typename T>
Outcome DoUserOp(Call& c, const T& op,
                 absl::Status (*fn)(Database&, const OpContext&, const Uuid&)) {
  Args a;
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(fn(c.db, c.ctx, user));
}

Outcome DoDeleteUser(Call& c, const wire::DeleteUser& op) {
  Args a;
  const Uuid actor = a.Id(op.actor_id(), "actor_id");
  const Uuid user = a.Id(op.user_id(), "user_id");
  VOX_RETURN_IF_ERROR(a.status());
  return c.Empty(DeleteUser(c.db, c.ctx, actor, user));
}

}  // namespace

std::optional<Outcome> ExecuteIdentity(Call& c, Op type, const void* op) {
  switch (type) {
    case Op::RegisterUser:
      return DoRegisterUser(c, *As<wire::RegisterUser>(op));
    case Op::RecordLogin:
      return DoRecordLogin(c, *As<wire::RecordLogin>(op));
    case Op::Logout:
      return DoUserOp(c, *As<wire::Logout>(op), &Logout);
    case Op::UpdateProfile:
      return DoUpdateProfile(c, *As<wire::UpdateProfile>(op));
    case Op::VerifyEmail:
      return DoUserOp(c, *As<wire::VerifyEmail>(op), &VerifyEmail);
    case Op::SetAccountStatus:
      return DoSetAccountStatus(c, *As<wire::SetAccountStatus>(op));
    case Op::SetUserRole:
      return DoSetUserRole(c, *As<wire::SetUserRole>(op));
    case Op::LinkAuthProvider:
      return DoLinkAuthProvider(c, *As<wire::LinkAuthProvider>(op));
    case Op::UnlinkAuthProvider:
      return DoUnlinkAuthProvider(c, *As<wire::UnlinkAuthProvider>(op));
    case Op::DeleteUser:
      return DoDeleteUser(c, *As<wire::DeleteUser>(op));
    default:
      return std::nullopt;
  }
}

}  // namespace vox::net
