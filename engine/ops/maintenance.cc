#include "engine/ops/maintenance.h"

#include "engine/ops/ledger.h"
#include "engine/ops/media.h"
#include "engine/ops/moderation.h"
#include "schema/str.h"

namespace vox {
namespace {

template <typename T>
absl::Status Step(absl::StatusOr<T> result, std::string_view what, int64_t* count) {
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        StrCat("maintenance (", what, "): ", result.status().message()));
  }
  *count = static_cast<int64_t>(*result);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MaintenanceReport> RunMaintenance(Database& db, const OpContext& ctx) {
  MaintenanceReport r;
  VOX_RETURN_IF_ERROR(Step(LiftExpiredRestrictions(db, ctx), "lifting expired restrictions",
                           &r.restrictions_lifted));
  VOX_RETURN_IF_ERROR(
      Step(DeleteExpiredRecordings(db, ctx), "deleting expired recordings", &r.recordings_deleted));
  VOX_RETURN_IF_ERROR(Step(VoidExpiredReservations(db, ctx), "voiding expired reservations",
                           &r.reservations_voided));
  VOX_RETURN_IF_ERROR(
      Step(ExpireSubscriptions(db, ctx), "expiring subscriptions", &r.subscriptions_expired));
  return r;
}

}  // namespace vox
