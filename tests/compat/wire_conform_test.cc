// The wire protocol stays backward compatible: schema/voxdb.fbs, as it is
// when the test runs, is an evolution of protocol v1 (voxdb_v1.fbs, the
// schema at commit 0850be2) the FlatBuffers way.
//
// Two checks, both on what the real flatc says:
//   - `flatc --conform voxdb_v1.fbs schema/voxdb.fbs`: every field v1 and
//     the current schema share keeps its slot, type and default; every enum
//     and union value they share keeps its number.
//   - Nothing of v1 is gone: flatc --conform accepts a removed table, a
//     removed last field or a removed last union member, so the test reads
//     both schemas as flatc compiles them (.bfbs) and looks each v1 name up.
// The canary tests run the same checks on scratch copies of v1 broken on
// purpose, so that a check that cannot fail is itself a failure.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "flatbuffers/reflection_generated.h"
#include "gtest/gtest.h"

namespace vox {
namespace {

struct FlatcRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs flatc with `args` (paths without quotes in them).
FlatcRun Flatc(const std::string& args) {
  const std::string command = std::string("'") + FLATC_BINARY + "' " + args + " 2>&1";
  FlatcRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

FlatcRun Conform(const std::string& base, const std::string& candidate) {
  return Flatc("--conform '" + base + "' '" + candidate + "'");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// What of `old` is missing from `now`, by name: tables and structs, their
// fields, enums and unions, their values ("vox.wire.Op.ScramProof").
// Types, slots and numbers are flatc --conform's part.
std::vector<std::string> MissingFrom(const reflection::Schema& old, const reflection::Schema& now) {
  std::vector<std::string> missing;
  for (const reflection::Object* object : *old.objects()) {
    const reflection::Object* found = now.objects()->LookupByKey(object->name()->c_str());
    if (found == nullptr) {
      missing.push_back(object->name()->str());
      continue;
    }
    for (const reflection::Field* field : *object->fields()) {
      if (found->fields()->LookupByKey(field->name()->c_str()) == nullptr) {
        missing.push_back(object->name()->str() + "." + field->name()->str());
      }
    }
  }
  for (const reflection::Enum* e : *old.enums()) {
    const reflection::Enum* found = now.enums()->LookupByKey(e->name()->c_str());
    if (found == nullptr) {
      missing.push_back(e->name()->str());
      continue;
    }
    for (const reflection::EnumVal* value : *e->values()) {
      const bool kept = std::any_of(
          found->values()->begin(), found->values()->end(),
          [&](const reflection::EnumVal* v) { return v->name()->str() == value->name()->str(); });
      if (!kept) missing.push_back(e->name()->str() + "." + value->name()->str());
    }
  }
  return missing;
}

class WireConformTest : public ::testing::Test {
 protected:
  WireConformTest() {
    char tmpl[] = "/tmp/voxdb-conform-XXXXXX";
    scratch_ = ::mkdtemp(tmpl);
  }
  ~WireConformTest() override { std::filesystem::remove_all(scratch_); }

  // voxdb_v1.fbs with `from` (found exactly once) replaced by `to`, written
  // to the scratch folder as `name`.fbs; its path.
  std::string EditedV1(const std::string& name, std::string_view from, std::string_view to) {
    std::string text = ReadFile(V1_SCHEMA);
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << "'" << from << "' is not in voxdb_v1.fbs";
    EXPECT_EQ(text.find(from, at + 1), std::string::npos) << "'" << from << "' is there twice";
    if (at != std::string::npos) text.replace(at, from.size(), to);
    const std::string path = scratch_ + "/" + name + ".fbs";
    std::ofstream(path) << text;
    return path;
  }

  // What of v1 is missing from `schema`, as flatc compiles both.
  std::vector<std::string> MissingFromV1(const std::string& schema) {
    const std::string v1 = BinarySchema(V1_SCHEMA, "v1");
    const std::string now = BinarySchema(schema, "now");
    if (v1.empty() || now.empty()) return {"(no binary schema)"};
    return MissingFrom(*reflection::GetSchema(v1.data()), *reflection::GetSchema(now.data()));
  }

 private:
  // `schema` compiled by flatc into a verified reflection::Schema buffer;
  // "" (and a test failure) if it is not one.
  std::string BinarySchema(const std::string& schema, const std::string& folder) {
    const std::string out = scratch_ + "/" + folder;
    const FlatcRun run = Flatc("--binary --schema -o '" + out + "' '" + schema + "'");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const std::string bfbs =
        ReadFile(out + "/" + std::filesystem::path(schema).stem().string() + ".bfbs");
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bfbs.data()), bfbs.size());
    const bool valid = reflection::VerifySchemaBuffer(verifier);
    EXPECT_TRUE(valid) << schema << " as .bfbs";
    return valid ? bfbs : "";
  }

  std::string scratch_;
};

// ---- The checks, on the current schema ----

TEST_F(WireConformTest, CurrentSchemaConformsToV1) {
  const FlatcRun run = Conform(V1_SCHEMA, CURRENT_SCHEMA);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
}

TEST_F(WireConformTest, CurrentSchemaKeepsEverythingOfV1) {
  EXPECT_EQ(MissingFromV1(CURRENT_SCHEMA), std::vector<std::string>{});
}

// ---- Canaries: the checks fail on incompatible schemas ----

TEST_F(WireConformTest, AMovedFieldIsRejected) {
  const std::string moved = EditedV1("moved_field", "protocol_version: uint; token: string;",
                                     "token: string; protocol_version: uint;");
  const FlatcRun run = Conform(V1_SCHEMA, moved);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("schemas don't conform: offsets differ for field: token"),
            std::string::npos)
      << run.output;
}

TEST_F(WireConformTest, AReorderedUnionIsRejected) {
  const std::string reordered =
      EditedV1("reordered_union", "  Hello, RegisterUser, CreateAndOpenRoom,",
               "  RegisterUser, Hello, CreateAndOpenRoom,");
  const FlatcRun run = Conform(V1_SCHEMA, reordered);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("schemas don't conform: values differ for enum: RegisterUser"),
            std::string::npos)
      << run.output;
}

TEST_F(WireConformTest, AChangedTypeIsRejected) {
  const std::string changed = EditedV1("changed_type", "table BoolResult { value: bool; }",
                                       "table BoolResult { value: int; }");
  const FlatcRun run = Conform(V1_SCHEMA, changed);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("types differ for field: value"), std::string::npos) << run.output;
}

// flatc --conform accepts these two; the name check does not.
TEST_F(WireConformTest, ARemovedLastFieldIsCaught) {
  const std::string removed = EditedV1("removed_field", "  server_signature: [ubyte];\n", "");
  EXPECT_EQ(MissingFromV1(removed),
            std::vector<std::string>{"vox.wire.HelloResult.server_signature"});
}

TEST_F(WireConformTest, ARemovedLastUnionMemberIsCaught) {
  const std::string removed =
      EditedV1("removed_member", "HandRaiseQueue,\n  ScramProof\n}", "HandRaiseQueue\n}");
  EXPECT_EQ(MissingFromV1(removed), std::vector<std::string>{"vox.wire.Op.ScramProof"});
}

// What the protocol may do: append fields, tables and union members, and
// deprecate a field (it keeps its slot and name).
TEST_F(WireConformTest, AllowedChangesPass) {
  const std::vector<std::string> evolved = {
      EditedV1("appended_field", "  server_signature: [ubyte];\n",
               "  server_signature: [ubyte];\n  server_time: long;\n"),
      EditedV1("appended_member", "HandRaiseQueue,\n  ScramProof\n}",
               "HandRaiseQueue,\n  ScramProof, Ping\n}\ntable Ping {}"),
      EditedV1("deprecated_field", "protocol_version: uint; token: string;",
               "protocol_version: uint; token: string (deprecated);"),
  };
  for (const std::string& schema : evolved) {
    const FlatcRun run = Conform(V1_SCHEMA, schema);
    EXPECT_EQ(run.exit_code, 0) << schema << ": " << run.output;
    EXPECT_EQ(MissingFromV1(schema), std::vector<std::string>{}) << schema;
  }
}

}  // namespace
}  // namespace vox
