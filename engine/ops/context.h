// OpContext carries what every platform operation is given besides its own
// arguments: the clock and the caller's network identity for the audit row.
#ifndef VOXDB_ENGINE_OPS_CONTEXT_H_
#define VOXDB_ENGINE_OPS_CONTEXT_H_

#include <optional>
#include <string_view>

#include "schema/types.h"

namespace vox {

struct OpContext {
  // The operation's "now": every timestamp it writes. Passed in (never read
  // from the system clock) so that an operation replays exactly.
  Timestamp now = 0;
  std::optional<Uuid> ip_address;  // see ParseInet
  std::string_view user_agent;     // must outlive the call
};

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_CONTEXT_H_
