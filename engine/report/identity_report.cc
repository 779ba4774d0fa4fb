// IdentityReport: sign-ups, sign-ins and account changes.
#include "engine/report/internal/report_util.h"
#include "engine/report/reports.h"

namespace vox {
namespace {

using report_internal::kNoKeyId;

// Cells.
enum : size_t {
  kSignups,
  kLoginOk,
  kLoginFailed,
  kLogouts,
  kLinks,
  kStatusChanges,
  kRoleChanges,
  kCells
};
constexpr uint8_t kNoProvider = 0xff;
constexpr size_t kProviders = 6;
static_assert(static_cast<size_t>(AuthProviderType::SAML) + 1 == kProviders);
static_assert(static_cast<size_t>(AccountStatus::DELETED) + 1 == 4);
static_assert(static_cast<size_t>(UserRole::SUPER_ADMIN) + 1 == 4);

// The cell an audit action counts in, or -1.
std::array<int8_t, 256> AuditCells() {
  std::array<int8_t, 256> cells;
  cells.fill(-1);
  cells[static_cast<size_t>(AuditAction::USER_LOGIN_SUCCESS)] = kLoginOk;
  cells[static_cast<size_t>(AuditAction::USER_LOGIN_FAILED)] = kLoginFailed;
  cells[static_cast<size_t>(AuditAction::USER_LOGOUT)] = kLogouts;
  cells[static_cast<size_t>(AuditAction::AUTH_PROVIDER_LINKED)] = kLinks;
  cells[static_cast<size_t>(AuditAction::ACCOUNT_STATUS_CHANGED)] = kStatusChanges;
  cells[static_cast<size_t>(AuditAction::ROLE_CHANGED)] = kRoleChanges;
  return cells;
}

}  // namespace

absl::StatusOr<ReportTable> IdentityReport(const ReportSnapshot& snap,
                                           const IdentityReportRequest& req) {
  using namespace report_internal;
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, Prepare(snap, kIdentityReportTables, req.range));
  VOX_RETURN_IF_ERROR(CheckEnumValue("identity dimension", static_cast<int>(req.by), 4));
  VOX_RETURN_IF_ERROR(CheckEnum("auth provider", req.provider, EnumId::AuthProviderType));
  VOX_RETURN_IF_ERROR(CheckEnum("account status", req.account_status, EnumId::AccountStatus));
  VOX_RETURN_IF_ERROR(CheckEnum("role", req.role, EnumId::UserRole));

  const size_t n_users = snap.row_count(TableId::users);
  const ColumnView<uint8_t> status = snap.column<uint8_t>(TableId::users, users::account_status);
  const ColumnView<uint8_t> role = snap.column<uint8_t>(TableId::users, users::role);
  const bool by_provider = req.by == IdentityDimension::kProvider || req.provider.has_value();

  // Each user's sign-up provider: the type of their earliest auth_providers row.
  std::vector<uint8_t> signup_provider;
  if (by_provider) {
    signup_provider.assign(n_users, kNoProvider);
    std::vector<Timestamp> first(n_users, INT64_MAX);
    const ColumnView<uint8_t> live = snap.live(TableId::auth_providers);
    const ColumnView<uint32_t> user =
        snap.column<uint32_t>(TableId::auth_providers, auth_providers::user_id);
    const ColumnView<int64_t> created =
        snap.column<int64_t>(TableId::auth_providers, auth_providers::created_at);
    const ColumnView<uint8_t> type =
        snap.column<uint8_t>(TableId::auth_providers, auth_providers::provider_type);
    for (size_t k = 0; k < live.chunk_count(); ++k) {
      const uint8_t* l = live.values(k);
      const uint32_t* u = user.values(k);
      const int64_t* c = created.values(k);
      const uint8_t* t = type.values(k);
      for (uint32_t i = 0; i < live.chunk_rows(k); ++i) {
        if (l[i] == 0 || u[i] >= n_users || c[i] >= first[u[i]]) continue;  // ties: lowest row
        first[u[i]] = c[i];
        signup_provider[u[i]] = t[i];
      }
    }
  }

  auto passes = [&](RowId user, uint8_t provider) {
    if (req.provider && provider != static_cast<uint8_t>(*req.provider)) return false;
    if (req.account_status &&
        (user == kNoRow || status[user] != static_cast<uint8_t>(*req.account_status))) {
      return false;
    }
    if (req.role && (user == kNoRow || role[user] != static_cast<uint8_t>(*req.role))) return false;
    return true;
  };
  auto key_of = [&](RowId user, uint8_t provider) -> uint32_t {
    switch (req.by) {
      case IdentityDimension::kNone:
        return 0;
      case IdentityDimension::kProvider:
        return provider == kNoProvider ? kNoKeyId : provider;
      case IdentityDimension::kAccountStatus:
        return user == kNoRow ? kNoKeyId : status[user];
      case IdentityDimension::kRole:
        return user == kNoRow ? kNoKeyId : role[user];
    }
    return 0;
  };

  const size_t key_space = req.by == IdentityDimension::kNone       ? 1
                           : req.by == IdentityDimension::kProvider ? kProviders
                                                                    : 4;  // statuses, roles
  SeriesBuilder series(buckets, kCells, key_space);
  DistinctCounter login_users;

  // Sign-ups.
  ScanTimeRange(snap, TableId::users, users::created_at, buckets, [&](RowId u, Timestamp t) {
    const uint8_t provider = by_provider ? signup_provider[u] : kNoProvider;
    if (!passes(u, provider)) return;
    series.Add(series.SlotAt(t, key_of(u, provider)), kSignups, 1);
  });

  // Audit rows: a tight pass over action and timestamp; the rest per hit.
  static const std::array<int8_t, 256> kCellOf = AuditCells();
  const ColumnView<uint8_t> live = snap.live(TableId::audit_logs);
  const ColumnView<uint8_t> action = snap.column<uint8_t>(TableId::audit_logs, audit_logs::action);
  const ColumnView<int64_t> ts = snap.column<int64_t>(TableId::audit_logs, audit_logs::timestamp);
  const ColumnView<uint32_t> actor =
      snap.column<uint32_t>(TableId::audit_logs, audit_logs::user_id);
  const ColumnView<uint32_t> target =
      snap.column<uint32_t>(TableId::audit_logs, audit_logs::target_user_id);
  const StringView metadata = snap.strings(TableId::audit_logs, audit_logs::metadata);
  const Timestamp from = buckets.from(), to = buckets.to();
  for (size_t k = 0; k < ts.chunk_count(); ++k) {
    const uint8_t* l = live.values(k);
    const uint8_t* a = action.values(k);
    const int64_t* t = ts.values(k);
    const RowId base = static_cast<RowId>(k << kChunkShift);
    for (uint32_t i = 0; i < ts.chunk_rows(k); ++i) {
      const int cell = kCellOf[a[i]];
      if (cell < 0 || t[i] < from || t[i] >= to || l[i] == 0) continue;
      const RowId r = base + i;
      const bool about_target = cell == kStatusChanges || cell == kRoleChanges;
      const RowId user = RefAt(about_target ? target : actor, r, n_users);
      uint8_t provider = kNoProvider;
      if (by_provider && (cell == kLoginOk || cell == kLoginFailed || cell == kLinks)) {
        const int p =
            EnumValueOf(EnumId::AuthProviderType, JsonStringField(metadata[r], "provider"));
        if (p >= 0) provider = static_cast<uint8_t>(p);
      }
      if (!passes(user, provider)) continue;
      const uint32_t slot = series.SlotAt(t[i], key_of(user, provider));
      series.Add(slot, static_cast<size_t>(cell), 1);
      if (cell == kLoginOk && user != kNoRow) login_users.Add(slot, user);
    }
  }
  login_users.Compute(series.slot_count());

  std::string dimension;
  EnumId key_enum = EnumId::AuthProviderType;
  switch (req.by) {
    case IdentityDimension::kNone:
      break;
    case IdentityDimension::kProvider:
      dimension = "provider";
      break;
    case IdentityDimension::kAccountStatus:
      dimension = "account_status";
      key_enum = EnumId::AccountStatus;
      break;
    case IdentityDimension::kRole:
      dimension = "role";
      key_enum = EnumId::UserRole;
      break;
  }
  return series.Finish(
      std::move(dimension),
      {"signups", "logins_succeeded", "logins_failed", "login_failure_rate", "unique_login_users",
       "logouts", "providers_linked", "account_status_changes", "role_changes"},
      [&](uint32_t key) { return std::string(EnumValueName(key_enum, key)); },
      [&](uint32_t slot, const int64_t* c, double* out) {
        out[0] = static_cast<double>(c[kSignups]);
        out[1] = static_cast<double>(c[kLoginOk]);
        out[2] = static_cast<double>(c[kLoginFailed]);
        out[3] = Ratio(c[kLoginFailed], c[kLoginOk] + c[kLoginFailed]);
        out[4] = static_cast<double>(login_users.count(slot));
        out[5] = static_cast<double>(c[kLogouts]);
        out[6] = static_cast<double>(c[kLinks]);
        out[7] = static_cast<double>(c[kStatusChanges]);
        out[8] = static_cast<double>(c[kRoleChanges]);
      });
}

}  // namespace vox
