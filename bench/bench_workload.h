// The WORKLOAD.md data set for a Google Benchmark binary: generated at the
// scale factor in VOX_BENCH_SCALE (else the benchmark's default) into a new
// Database, with a line on stderr before and after. A failed generation
// ends the benchmark: its figures would mean nothing.
#ifndef VOXDB_BENCH_BENCH_WORKLOAD_H_
#define VOXDB_BENCH_BENCH_WORKLOAD_H_

#include <cerrno>  // program_invocation_short_name
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "engine/database.h"
#include "tools/datagen/datagen.h"

namespace vox {

// Ends a benchmark whose own check of its answer failed: figures of wrong
// answers would mean nothing.
[[noreturn]] inline void BenchFail(const std::string& what) {
  std::cerr << program_invocation_short_name << ": wrong result: " << what << "\n";
  std::abort();
}

// VOX_BENCH_SCALE, or `default_scale` when it is not set.
inline double BenchScale(double default_scale) {
  const char* env = std::getenv("VOX_BENCH_SCALE");
  return env != nullptr ? std::atof(env) : default_scale;
}

struct BenchWorkload {
  std::unique_ptr<Database> db;
  GeneratedData data;
};

// `bulk` = false loads every row through Txn (GenerateOptions::bulk).
inline BenchWorkload LoadBenchWorkload(double default_scale, bool bulk = true) {
  GenerateOptions options{.scale = BenchScale(default_scale)};
  options.bulk = bulk;
  BenchWorkload w{std::make_unique<Database>(WorkloadDatabaseOptions(options.seed)), {}};
  std::cerr << "loading the workload at SF=" << options.scale << "...\n";
  auto data = GenerateWorkload(*w.db, options);
  if (!data.ok()) {
    std::cerr << "generation failed: " << data.status().message() << "\n";
    std::exit(1);
  }
  w.data = std::move(*data);
  std::cerr << "loaded " << w.data.total_rows << " rows in " << w.data.load_seconds << " s\n";
  return w;
}

}  // namespace vox

#endif  // VOXDB_BENCH_BENCH_WORKLOAD_H_
