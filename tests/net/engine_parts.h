// The engine parts of a dispatch test: one database, no log, no
// checkpointer (answers need no durable LSN).
#ifndef VOXDB_TESTS_NET_ENGINE_PARTS_H_
#define VOXDB_TESTS_NET_ENGINE_PARTS_H_

#include "net/server.h"

namespace vox::testing {

inline EngineParts LoglessEngine(Database& db, const Uuid& database_id) {
  return EngineParts{.db = &db,
                     .wal = nullptr,
                     .sink = nullptr,
                     .checkpointer = nullptr,
                     .database_id = database_id,
                     .durability = Durability::kNone};
}

}  // namespace vox::testing

#endif  // VOXDB_TESTS_NET_ENGINE_PARTS_H_
