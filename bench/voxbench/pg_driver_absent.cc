// voxbench built without libpq (Debian: libpq-dev): no PostgreSQL driver.
#include "bench/voxbench/driver.h"

namespace vox::bench {

std::unique_ptr<Driver> MakePostgresDriver(std::string /*conninfo*/) { return nullptr; }

}  // namespace vox::bench
