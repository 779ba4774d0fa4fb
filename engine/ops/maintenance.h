// Time-based work: everything that happens because time passed, as one
// engine operation taking "now" as a parameter, so that it replays exactly.
// The server runs it on a schedule; tests and tools call it directly.
#ifndef VOXDB_ENGINE_OPS_MAINTENANCE_H_
#define VOXDB_ENGINE_OPS_MAINTENANCE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

struct MaintenanceReport {
  int64_t restrictions_lifted = 0;    // mutes, room bans, suspensions, moderation actions
  int64_t recordings_deleted = 0;     // expired recordings soft-deleted
  int64_t reservations_voided = 0;    // pending call charges past their timeout
  int64_t subscriptions_expired = 0;  // premium subscriptions past their end
};

// Runs each kind of work as its own transaction, in the order above. On an
// error the earlier kinds stay done and the error says which kind failed.
absl::StatusOr<MaintenanceReport> RunMaintenance(Database& db, const OpContext& ctx);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_MAINTENANCE_H_
