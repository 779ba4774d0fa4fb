#include "bench/voxbench/keys.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace vox::bench {
namespace {

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/voxbench-keys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Write(const std::string& text) {
    const std::string path = dir_ + "/k";
    std::ofstream(path) << text;
    return path;
  }

  static Uuid U(uint8_t b) {
    return Uuid{.hi = uint64_t{b} << 56 | 0x7000, .lo = 0x8000000000000000ULL | b};
  }

  std::string dir_;
};

TEST_F(KeysTest, RoundTrips) {
  WorkloadKeys keys{.scale = 0.25, .seed = 9};
  keys.emails = {"user1@example.com", "user7@example.com"};
  keys.users = {U(1), U(2)};
  keys.rooms = {U(3)};
  keys.live_rooms = {U(4)};
  keys.present = {{U(4), U(1)}};
  keys.banned = {{U(3), U(2)}};
  keys.funded = {U(2)};
  keys.tags = {"tag-1", "tag-2"};
  const std::string path = dir_ + "/keys";
  ASSERT_TRUE(WriteKeys(path, keys).ok());
  auto back = ReadKeys(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->scale, 0.25);
  EXPECT_EQ(back->seed, 9u);
  EXPECT_EQ(back->emails, keys.emails);
  EXPECT_EQ(back->users, keys.users);
  EXPECT_EQ(back->rooms, keys.rooms);
  EXPECT_EQ(back->live_rooms, keys.live_rooms);
  ASSERT_EQ(back->present.size(), 1u);
  EXPECT_EQ(back->present[0].room, U(4));
  EXPECT_EQ(back->present[0].user, U(1));
  ASSERT_EQ(back->banned.size(), 1u);
  EXPECT_EQ(back->banned[0].user, U(2));
  EXPECT_EQ(back->funded, keys.funded);
  EXPECT_EQ(back->tags, keys.tags);
}

TEST_F(KeysTest, MissingFileIsNotFound) {
  auto keys = ReadKeys(dir_ + "/none");
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KeysTest, OtherFilesAreRefused) {
  auto keys = ReadKeys(Write("id,name\n1,x\n"));
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.status().message().find("not a voxbench keys file"), std::string::npos);
}

TEST_F(KeysTest, BadLinesAreNamed) {
  auto keys = ReadKeys(Write("# voxbench keys 1\nscale 1\nuser not-a-uuid\n"));
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(keys.status().message().find(":3:"), std::string::npos) << keys.status();
  keys = ReadKeys(Write("# voxbench keys 1\nwhat 1\n"));
  EXPECT_NE(keys.status().message().find("unknown kind 'what'"), std::string::npos);
  keys = ReadKeys(Write("# voxbench keys 1\npresent 00000000-0000-0000-0000-000000000001\n"));
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument) << keys.status();
}

TEST_F(KeysTest, AFileWithoutSomeKindIsRefused) {
  auto keys = ReadKeys(Write("# voxbench keys 1\nscale 1\nemail a@b\n"));
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(keys.status().message().find("no 'user' keys"), std::string::npos) << keys.status();
}

TEST_F(KeysTest, UnwritableDirectoryIsAnError) {
  WorkloadKeys keys;
  const absl::Status s = WriteKeys("/proc/voxbench/keys", keys);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/proc/voxbench/keys"), std::string::npos) << s;
}

}  // namespace
}  // namespace vox::bench
