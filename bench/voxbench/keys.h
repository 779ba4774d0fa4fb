// The keys voxbench draws its parameters from (WORKLOAD.md: "parameters
// drawn uniformly from existing keys"): written by `datagen --keys=FILE`
// from the very rows it generated, so that the same file drives VoxDB and
// PostgreSQL loaded with the same data set.
//
// The file is text, one key per line, "kind value...":
//   # voxbench keys 1
//   scale 0.1            seed 42
//   email user12@example.com           R1
//   user <uuid>          an active user: R3, R9, W2's owner, W3's joiner, W6's receiver
//   room <uuid>          any room: R4, R6
//   live <uuid>          a LIVE room: R2, R8's misses, W3
//   present <room> <user>  a present, non-host participant of a LIVE room: W4, W5
//   banned <room> <user>   a banned participation: R8's hits
//   funded <uuid>        an active user whose wallet holds >= 1,000 coins: W6's sender
//   tag <name>           a tag of the vocabulary: R7, W2
#ifndef VOXDB_BENCH_VOXBENCH_KEYS_H_
#define VOXDB_BENCH_VOXBENCH_KEYS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "schema/types.h"

namespace vox::bench {

struct RoomUser {
  Uuid room{};
  Uuid user{};
};

struct WorkloadKeys {
  double scale = 0;
  uint64_t seed = 0;
  std::vector<std::string> emails;
  std::vector<Uuid> users;
  std::vector<Uuid> rooms;
  std::vector<Uuid> live_rooms;
  std::vector<RoomUser> present;
  std::vector<RoomUser> banned;
  std::vector<Uuid> funded;
  std::vector<std::string> tags;
};

// Writes `keys` to `path` (through a temporary file and a rename).
absl::Status WriteKeys(const std::string& path, const WorkloadKeys& keys);

// Reads a keys file; InvalidArgument naming the line for anything malformed,
// FailedPrecondition when a kind every run needs is missing.
absl::StatusOr<WorkloadKeys> ReadKeys(const std::string& path);

}  // namespace vox::bench

#endif  // VOXDB_BENCH_VOXBENCH_KEYS_H_
