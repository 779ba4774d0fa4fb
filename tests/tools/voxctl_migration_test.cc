// `voxctl schema`'s words, migration files and printed answers
// (tools/voxctl_migration.h), without a server; tests/integration/
// voxctl_schema_test.cc runs the commands against one.
#include "tools/voxctl_migration.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/wal/wal_test_util.h"

namespace vox::voxctl {
namespace {

using Kind = SchemaCommand::Kind;

std::string Refusal(const std::vector<std::string>& words) {
  absl::StatusOr<SchemaCommand> c = ParseSchemaCommand(words);
  EXPECT_TRUE(absl::IsInvalidArgument(c.status())) << c.status();
  return std::string(c.status().message());
}

TEST(SchemaCommandTest, ParsesShowDiffAndApply) {
  absl::StatusOr<SchemaCommand> show = ParseSchemaCommand({"show"});
  ASSERT_TRUE(show.ok());
  EXPECT_EQ(show->kind, Kind::kShow);
  absl::StatusOr<SchemaCommand> diff = ParseSchemaCommand({"diff", "m.vmig"});
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff->kind, Kind::kDiff);
  EXPECT_EQ(diff->file, "m.vmig");
  EXPECT_FALSE(diff->confirm_destructive);
  for (const char* confirm : {"--confirm-destructive", "--confirm_destructive"}) {
    absl::StatusOr<SchemaCommand> apply = ParseSchemaCommand({"apply", confirm, "-"});
    ASSERT_TRUE(apply.ok()) << apply.status();
    EXPECT_EQ(apply->kind, Kind::kApply);
    EXPECT_EQ(apply->file, "-");
    EXPECT_TRUE(apply->confirm_destructive);
  }
}

TEST(SchemaCommandTest, RefusesWhatIsNotACommand) {
  EXPECT_NE(Refusal({}).find("usage: schema show"), std::string::npos);
  EXPECT_NE(Refusal({"drop"}).find("unknown schema command 'drop'"), std::string::npos);
  EXPECT_NE(Refusal({"show", "x"}).find("takes no arguments"), std::string::npos);
  EXPECT_NE(Refusal({"apply"}).find("takes one migration file"), std::string::npos);
  EXPECT_NE(Refusal({"apply", "a", "b"}).find("takes one migration file"), std::string::npos);
  EXPECT_NE(Refusal({"diff", "--dry-run"}).find("unknown option --dry-run"), std::string::npos);
  EXPECT_NE(Refusal({"diff", "m", "--confirm-destructive"}).find("is for `schema apply`"),
            std::string::npos);
}

TEST(MigrationFileTest, ReadsTheFileOrSaysWhyNot) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/m.vmig";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("version 2\nadd column users.x int32 null\n", f);
  std::fclose(f);
  absl::StatusOr<std::string> text = ReadMigrationFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "version 2\nadd column users.x int32 null\n");

  EXPECT_EQ(ReadMigrationFile(dir.path() + "/none").status().message(),
            "cannot read " + dir.path() + "/none: No such file or directory");
  EXPECT_NE(ReadMigrationFile(dir.path()).status().message().find("Is a directory"),
            std::string::npos);
  f = std::fopen(path.c_str(), "w");
  std::fputs(" \n\t\n", f);
  std::fclose(f);
  EXPECT_EQ(ReadMigrationFile(path).status().message(),
            path + " is empty: a migration starts with `version N`");
}

TEST(MigrationOutputTest, SaysWhatChangedAndWhatNeedsConfirmation) {
  rpc::MigrationInfo dry{.from_version = 2,
                         .to_version = 3,
                         .applied = false,
                         .destructive = true,
                         .changes = {"drop column users.headline: 3 non-null values dropped"}};
  EXPECT_EQ(RenderMigration(dry),
            "version 2 -> 3: dry run, nothing changed\n"
            "  drop column users.headline: 3 non-null values dropped\n"
            "DESTRUCTIVE: needs --confirm-destructive (a step loses data)\n");
  rpc::MigrationInfo applied = dry;
  applied.applied = true;
  EXPECT_EQ(RenderMigration(applied),
            "version 2 -> 3: applied (destructive, confirmed)\n"
            "  drop column users.headline: 3 non-null values dropped\n");
  EXPECT_EQ(RenderMigration({.from_version = 1, .to_version = 2, .applied = true}),
            "version 1 -> 2: applied\n  (no steps)\n");
  EXPECT_EQ(RenderSchema({.description = "schema version 1"}), "schema version 1\n");
}

}  // namespace
}  // namespace vox::voxctl
