// Executes one verified request on the engine thread and builds its
// response. Private to net/.
#ifndef VOXDB_NET_INTERNAL_DISPATCH_H_
#define VOXDB_NET_INTERNAL_DISPATCH_H_

#include <cstdint>
#include <vector>

#include "net/server.h"

namespace vox::wire {
struct Request;
}

namespace vox::net {

enum class Role : uint8_t { kReadOnly, kApp, kAdmin };
const char* RoleName(Role role);

struct Dispatched {
  std::vector<uint8_t> frame;  // the size-prefixed Response
  uint64_t needs_lsn;          // release once the WAL is durable up to here
};

// `now` is the request's clock (microseconds since the epoch).
Dispatched Dispatch(EngineParts& engine, const wire::Request& request, Role role, Timestamp now);

// A size-prefixed Response carrying only an error.
std::vector<uint8_t> ErrorFrame(uint64_t id, const absl::Status& status);

}  // namespace vox::net

#endif  // VOXDB_NET_INTERNAL_DISPATCH_H_
