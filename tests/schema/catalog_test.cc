#include "schema/catalog.h"

#include "gtest/gtest.h"

namespace vox {
namespace {

TEST(CatalogTest, DeclarationsAreConsistent) {
  const absl::Status s = ValidateSchema();
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(CatalogTest, SeedEnumsAreCompleteAndInSeedOrder) {
  EXPECT_EQ(GetEnum(EnumId::AuthProviderType).values.size(), 6u);
  EXPECT_EQ(GetEnum(EnumId::RoomStatus).values[1], "LIVE");
  EXPECT_EQ(GetEnum(EnumId::ParticipantRole).values[1], "CO_HOST");
  EXPECT_EQ(GetEnum(EnumId::RecordingStatus).values[5], "READY");
  // The seed's audit actions come first, in the seed's order.
  EXPECT_EQ(EnumName(EnumId::AuditAction, AuditAction::USER_REGISTERED), "USER_REGISTERED");
  EXPECT_EQ(EnumName(EnumId::AuditAction, AuditAction::SUSPICIOUS_ACTIVITY), "SUSPICIOUS_ACTIVITY");
  // The seed's heading says "31 total" but it lists 30 names; all 30 are here.
  EXPECT_EQ(GetEnum(EnumId::AuditAction).values[29], "SUSPICIOUS_ACTIVITY");
  EXPECT_EQ(GetEnum(EnumId::AuditAction).values[12], "ROLE_CHANGED");
}

TEST(CatalogTest, SeedTablesKeepEverySeedColumn) {
  const char* users[] = {"id",           "username",   "email",        "password_hash",
                         "display_name", "is_active",  "is_verified",  "deleted_at",
                         "created_at",   "updated_at", "last_login_at"};
  for (size_t i = 0; i < std::size(users); ++i) {
    EXPECT_EQ(GetTable(TableId::users).columns[i].name, users[i]);
  }
  const char* participants[] = {"id",        "user_id",     "room_id",         "role",
                                "joined_at", "left_at",     "is_kicked",       "kicked_at",
                                "kicked_by", "kick_reason", "is_banned",       "banned_at",
                                "banned_by", "ban_reason",  "duration_seconds"};
  for (size_t i = 0; i < std::size(participants); ++i) {
    EXPECT_EQ(GetTable(TableId::room_participants).columns[i].name, participants[i]);
  }
  EXPECT_EQ(GetTable(TableId::recordings).columns.size(), 23u);
  EXPECT_EQ(GetTable(TableId::audit_logs).columns.size(), 9u);
}

TEST(CatalogTest, FindsByNameAndExplainsMisses) {
  ASSERT_TRUE(FindTable("rooms").ok());
  EXPECT_EQ(*FindColumn(TableId::rooms, "room_code"), rooms::room_code);
  auto missing = FindColumn(TableId::rooms, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("rooms"), std::string::npos);
  auto bad_enum = ParseEnumValue(EnumId::RoomStatus, "OPEN");
  ASSERT_FALSE(bad_enum.ok());
  EXPECT_NE(bad_enum.status().message().find("CREATED, LIVE, ENDED, CANCELLED"), std::string::npos);
  EXPECT_EQ(*ParseEnumValue(EnumId::RoomStatus, "ENDED"), 2);
}

TEST(CatalogTest, SecretsAreMarked) {
  EXPECT_TRUE(GetTable(TableId::users).columns[users::password_hash].Has(kSecret));
  EXPECT_TRUE(GetTable(TableId::auth_providers).columns[auth_providers::access_token].Has(kSecret));
  EXPECT_TRUE(
      GetTable(TableId::auth_providers).columns[auth_providers::refresh_token].Has(kSecret));
  EXPECT_FALSE(GetTable(TableId::users).columns[users::email].Has(kSecret));
}

TEST(CatalogTest, IndexNumbersResolveAtCompileTime) {
  constexpr size_t no = IndexNo("audit_by_room");
  EXPECT_EQ(kIndexes[no].table, TableId::audit_logs);
  EXPECT_TRUE(kIndexes[no].parts[1].descending);
}

}  // namespace
}  // namespace vox
