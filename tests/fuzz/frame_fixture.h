// The small database every fuzz_frame input runs against, built through the
// wire (rpc structs -> Request frames -> net::Dispatch) so that the seed
// generator, which builds the same one, knows every id in it: the database
// is deterministic (a fixed id seed and clock).
#ifndef VOXDB_TESTS_FUZZ_FRAME_FIXTURE_H_
#define VOXDB_TESTS_FUZZ_FRAME_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "net/internal/dispatch.h"
#include "net/rpc.h"

namespace vox::fuzz {

inline constexpr uint64_t kFixtureSeed = 77;
inline constexpr Timestamp kFixtureStart = 1793491200LL * kMicrosPerSecond;  // 2026-11-01
// The clock of every fuzzed request: an hour after the fixture was built.
inline constexpr Timestamp kFuzzNow = kFixtureStart + 3600LL * kMicrosPerSecond;

// A request's role comes from its id, so the fuzzer chooses it.
inline net::Role RoleFor(uint64_t request_id) { return static_cast<net::Role>(request_id % 3); }
// The smallest request id >= `base` that runs as `role`.
inline uint64_t IdFor(uint64_t base, net::Role role) {
  while (RoleFor(base) != role) ++base;
  return base;
}

struct FixtureIds {
  // Users: root is SUPER_ADMIN, mod a MODERATOR; eve is SUSPENDED, frank
  // banned from the jazz room, gina deleted.
  Uuid root, mod, alice, bob, carol, dave, eve, frank, gina;
  Uuid alice_google;  // an auth provider
  Uuid category;
  // jazz: LIVE, alice hosts, bob co-hosts, carol has her hand up.
  Uuid jazz, talk, later /* CREATED */, gone /* ENDED */;
  Uuid alice_in_jazz, bob_in_jazz, carol_in_jazz;
  Uuid recording, call;
  Uuid gift, reservation, purchase, vip_purchase;
  Uuid notification, invite, warning;
};

// Builds the fixture into `engine.db` (an empty database created with
// DatabaseOptions{.id_seed = kFixtureSeed}). Aborts if any step fails.
FixtureIds BuildFixture(EngineParts& engine);

// A size-prefixed Request frame around `encode`'s operation.
std::vector<uint8_t> RequestFrame(uint64_t id,
                                  const std::function<rpc::Encoded(rpc::Builder&)>& encode,
                                  bool read_unsynced = false);
template <typename Op>
std::vector<uint8_t> OpFrame(uint64_t id, const Op& op) {
  return RequestFrame(id, [&op](rpc::Builder& b) { return op.Encode(b); });
}
// A Batch of operations, as vox::Batch sends it.
std::vector<uint8_t> BatchFrame(uint64_t id,
                                const std::vector<std::function<rpc::Encoded(rpc::Builder&)>>& ops);

}  // namespace vox::fuzz

#endif  // VOXDB_TESTS_FUZZ_FRAME_FIXTURE_H_
