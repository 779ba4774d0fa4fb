// Executes one verified request on the engine thread and builds its
// response, or, for a report, prepares the work that builds it on another
// thread. Private to net/.
#ifndef VOXDB_NET_INTERNAL_DISPATCH_H_
#define VOXDB_NET_INTERNAL_DISPATCH_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "net/server.h"

namespace vox::wire {
struct Request;
enum class Op : uint8_t;
}  // namespace vox::wire

namespace vox::net {

enum class Role : uint8_t { kReadOnly, kApp, kAdmin };
const char* RoleName(Role role);

struct Dispatched {
  std::vector<uint8_t> frame;  // the size-prefixed Response; empty when `deferred` is set
  uint64_t needs_lsn;          // release once the WAL is durable up to here
  // Set for work that runs off the engine thread (reports): it builds the
  // size-prefixed Response, on any thread, from what the engine thread
  // pinned. Its answer is released like `frame` (after `needs_lsn`). Run
  // it at most once; dropping it unrun releases what it pinned.
  std::function<std::vector<uint8_t>()> deferred;
};

// `now` is the request's clock (microseconds since the epoch).
Dispatched Dispatch(EngineParts& engine, const wire::Request& request, Role role, Timestamp now);

// Report operations: Dispatch answers them with `deferred` set.
bool IsReport(wire::Op op);

// A size-prefixed Response carrying only an error.
std::vector<uint8_t> ErrorFrame(uint64_t id, const absl::Status& status);

}  // namespace vox::net

#endif  // VOXDB_NET_INTERNAL_DISPATCH_H_
