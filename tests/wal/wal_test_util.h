// Fixtures for the durability tests: a fresh directory per test.
#ifndef VOXDB_TESTS_WAL_WAL_TEST_UTIL_H_
#define VOXDB_TESTS_WAL_WAL_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace vox::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/voxdb-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace vox::testing

#endif  // VOXDB_TESTS_WAL_WAL_TEST_UTIL_H_
