// Versions shared by the VoxDB server and its clients.
#ifndef VOXDB_NET_PROTOCOL_H_
#define VOXDB_NET_PROTOCOL_H_

#include <cstdint>

namespace vox {

// Bumped only by an incompatible change to schema/voxdb.fbs (fields are only
// ever added, so new fields and operations keep the version).
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr char kServerVersion[] = "voxdb 0.1.0";

}  // namespace vox

#endif  // VOXDB_NET_PROTOCOL_H_
