// The text form of a migration (docs/schema.md): statements, one a line or
// separated by ';', comments after '#' or '--'. Parsing checks the form
// only; engine/ops/migration.cc checks each step against the database.
//
//   version 4
//   name 'room topics'
//   add table room_topics
//   add column room_topics.name string(100) default ''
//   add column rooms.topic_id ref(room_topics) null on delete set null
//   add index rooms_topic on rooms (topic_id)
//
// Every statement:
//   version N                     the version this migration makes (required)
//   name 'TEXT'                   what it is for (optional)
//   add column T.C TYPE [null] [default V] [secret] [on delete cascade|set null|restrict]
//   add enum value ENUM NAME
//   add table T [delete hard|none]
//   add [unique] index NAME on T (C [desc], ...)
//   drop index NAME
//   rename column T.C to NEW
//   widen column T.C TYPE          string(N)/json(N) to a larger N; int32 to int64
//   alter column T.C updatable|readonly
//   narrow column T.C TYPE         destructive
//   drop column T.C                destructive
//   drop table T                   destructive
// TYPE: bool int32 int64 timestamp uuid inet string(N) json(N) enum(E) ref(T)
#ifndef VOXDB_ENGINE_INTERNAL_MIGRATION_TEXT_H_
#define VOXDB_ENGINE_INTERNAL_MIGRATION_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "schema/schema.h"

namespace vox::internal {

// A column type as written: the type, and its length / enum / target table.
struct TypeSpec {
  ColumnType type = ColumnType::kBool;
  uint32_t max_length = 0;  // string, json
  std::string target;       // enum name (enum), table name (ref)
};

enum class StepKind : uint8_t {
  kAddColumn,
  kAddEnumValue,
  kAddTable,
  kAddIndex,
  kDropIndex,
  kRenameColumn,
  kWidenColumn,
  kAlterColumn,
  kNarrowColumn,  // destructive from here on
  kDropColumn,
  kDropTable,
};

inline bool IsDestructive(StepKind k) { return k >= StepKind::kNarrowColumn; }

// A default as written: null, now, a number, true/false, or text.
struct DefaultSpec {
  enum class Kind : uint8_t { kNone, kNull, kNow, kInt, kText } kind = Kind::kNone;
  int64_t number = 0;
  std::string text;  // kText: a string, or an enum value's name
};

struct Step {
  StepKind kind = StepKind::kAddColumn;
  int line = 0;        // in the text, for messages
  std::string table;   // every step but enum values and indexes by name
  std::string column;  // column steps
  std::string name;    // new column name, enum value, index name
  std::string enum_name;
  TypeSpec type;  // add / widen / narrow column
  bool nullable = false;
  bool secret = false;
  DefaultSpec fallback;  // add column: `default`
  OnDelete on_delete = OnDelete::kRestrict;
  bool on_delete_given = false;
  DeletePolicy delete_policy = DeletePolicy::kHard;  // add table
  bool unique = false;                               // add index
  std::vector<std::pair<std::string, bool>> key;     // add index: column, descending
  bool updatable = false;                            // alter column
};

struct MigrationText {
  uint32_t version = 0;
  std::string name;
  std::vector<Step> steps;
};

// InvalidArgument naming the line and what was expected.
absl::StatusOr<MigrationText> ParseMigrationText(std::string_view text);

// One statement in canonical form ("add column users.bio string(1000) null").
std::string StepText(const Step& step);
// The whole migration in canonical form: what the WAL and snapshots keep.
std::string CanonicalText(const MigrationText& m);

// "string(100)", "enum(RoomStatus)", ...
std::string TypeText(const TypeSpec& t);

}  // namespace vox::internal

#endif  // VOXDB_ENGINE_INTERNAL_MIGRATION_TEXT_H_
