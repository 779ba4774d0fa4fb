// `voxctl schema show|diff|apply` and the generic `voxctl call
// ApplyMigration|GetSchema` against a real voxdb process (docs/voxctl.md,
// "Schema migrations"): what each prints, that a diff changes nothing, that
// a destructive migration needs --confirm-destructive, the exit codes of
// refusals (1), usage errors (2) and lost servers (3), who may migrate, and
// that an applied migration survives a kill -9.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "net/client.h"
#include "net/scram.h"
#include "schema/str.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

constexpr char kHeadline[] =
    "version 2\n"
    "name 'user headline'\n"
    "add column users.headline string(2000) null\n";
constexpr char kDropHeadline[] =
    "version 3\n"
    "name 'no more headlines'\n"
    "drop column users.headline\n";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What one voxctl run printed, and its exit code.
struct Ran {
  int rc = -1;
  std::string out, err;
};

class VoxctlSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/db");
    ASSERT_NE(server_->port(), 0);
    client_ = server_->Connect();
    ASSERT_NE(client_, nullptr);
    for (const char* name : {"alice", "bob"}) {
      users_.push_back(CallOk(*client_, rpc::RegisterUser{name, StrCat(name, "@example.com"),
                                                          "$argon2id$v=19$hash", name})
                           .user_id);
    }
  }

  // A file in the test's directory holding `text`; its path.
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = StrCat(dir_.path(), "/", name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // voxctl ARGS against the server (or `server`), stdin from `input`.
  Ran Voxctl(const std::string& args, const std::string& input = "",
             const std::string& server = "") {
    const std::string out = dir_.path() + "/voxctl.out", err = dir_.path() + "/voxctl.err";
    const std::string in = Write("voxctl.in", input);
    const std::string where = server.empty() ? StrCat("127.0.0.1:", server_->port()) : server;
    const int status = std::system(
        StrCat(VOXCTL_BINARY, " --server=", where, " ", args, " < ", in, " > ", out, " 2> ", err)
            .c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
  }

  uint32_t Version() { return CallOk(*client_, rpc::GetSchema{}).version; }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
  std::vector<Uuid> users_;
};

TEST_F(VoxctlSchemaTest, ShowDiffAndApply) {
  const Ran before = Voxctl("schema show");
  ASSERT_EQ(before.rc, 0) << before.err;
  EXPECT_TRUE(Has(before.out, "schema version 1 (built-in: 1, migrations applied: 0)\n"))
      << before.out;
  EXPECT_TRUE(Has(before.out, "\ntable users  (2 rows)\n"));
  EXPECT_TRUE(Has(before.out, "\nenum RoomStatus: CREATED, LIVE, ENDED, CANCELLED\n"));

  // A diff is a dry run: it says what would change, and nothing does.
  const std::string file = Write("headline.vmig", kHeadline);
  const Ran diff = Voxctl(StrCat("schema diff ", file));
  ASSERT_EQ(diff.rc, 0) << diff.err;
  EXPECT_EQ(diff.out,
            "version 1 -> 2: dry run, nothing changed\n"
            "  add column users.headline string(2000) null: 2 rows hold null\n");
  EXPECT_EQ(Voxctl("schema show").out, before.out);
  EXPECT_EQ(Version(), 1u);

  const Ran apply = Voxctl(StrCat("schema apply ", file));
  ASSERT_EQ(apply.rc, 0) << apply.err;
  EXPECT_EQ(apply.out,
            "version 1 -> 2: applied\n"
            "  add column users.headline string(2000) null: 2 rows hold null\n");
  EXPECT_EQ(Version(), 2u);
  const Ran after = Voxctl("schema show");
  ASSERT_EQ(after.rc, 0) << after.err;
  EXPECT_TRUE(Has(after.out,
                  "schema version 2 (built-in: 1, migrations applied: 1)\n"
                  "  version 2: user headline (1 step)\n"))
      << after.out;
  EXPECT_TRUE(Has(after.out, "\n  headline string(2000) null updatable  -- added\n"));

  // The generic row operations reach the new column.
  ASSERT_TRUE(client_
                  ->Call(rpc::UpdateRow{
                      "users", users_[0], {rpc::Field::Text("headline", "host of Friday jazz")}})
                  .ok());
  EXPECT_TRUE(Has(CallOk(*client_, rpc::GetRow{"users", users_[0]}),
                  R"("headline":"host of Friday jazz")"));

  // The same migration again: refused by the server, exit 1.
  const Ran again = Voxctl(StrCat("schema apply ", file));
  EXPECT_EQ(again.rc, 1);
  EXPECT_TRUE(Has(again.err,
                  "voxctl: FAILED_PRECONDITION: the database is at schema version 2; "
                  "version 2 is already applied"))
      << again.err;

  // JSON: the result's fields.
  const Ran json = Voxctl("schema show --json");
  ASSERT_EQ(json.rc, 0) << json.err;
  EXPECT_TRUE(Has(
      json.out,
      R"({"version":2,"builtin_version":1,"history":["version 2\nname 'user headline'\nadd column users.headline string(2000) null\n"],"description":"schema version 2 )"))
      << json.out;
}

TEST_F(VoxctlSchemaTest, ADestructiveMigrationNeedsConfirmDestructive) {
  ASSERT_EQ(Voxctl(StrCat("schema apply ", Write("v2.vmig", kHeadline))).rc, 0);
  const std::string drop = Write("v3.vmig", kDropHeadline);

  const Ran diff = Voxctl(StrCat("schema diff ", drop));
  ASSERT_EQ(diff.rc, 0) << diff.err;
  EXPECT_TRUE(
      Has(diff.out, "version 2 -> 3: dry run, nothing changed\n  drop column users.headline"))
      << diff.out;
  EXPECT_TRUE(Has(diff.out, "\nDESTRUCTIVE: needs --confirm-destructive"));

  const Ran refused = Voxctl(StrCat("schema apply ", drop));
  EXPECT_EQ(refused.rc, 1);
  EXPECT_EQ(refused.out, "");
  EXPECT_TRUE(Has(refused.err,
                  "voxctl: FAILED_PRECONDITION: version 3 would lose data "
                  "(drop column users.headline)"))
      << refused.err;
  EXPECT_EQ(Version(), 2u);

  // --confirm-destructive only applies.
  const Ran misplaced = Voxctl(StrCat("schema diff ", drop, " --confirm-destructive"));
  EXPECT_EQ(misplaced.rc, 2);
  EXPECT_TRUE(Has(misplaced.err, "--confirm-destructive is for `schema apply`"));

  const Ran confirmed = Voxctl(StrCat("schema apply ", drop, " --confirm-destructive"));
  ASSERT_EQ(confirmed.rc, 0) << confirmed.err;
  EXPECT_TRUE(Has(confirmed.out,
                  "version 2 -> 3: applied (destructive, confirmed)\n"
                  "  drop column users.headline"))
      << confirmed.out;
  EXPECT_FALSE(Has(confirmed.out, "DESTRUCTIVE"));
  EXPECT_EQ(Version(), 3u);
  EXPECT_FALSE(Has(Voxctl("schema show").out, "headline string"));
}

TEST_F(VoxctlSchemaTest, RefusalsAndUsageErrors) {
  // A syntax error: the server's code and message, naming the line.
  const Ran syntax = Voxctl(
      StrCat("schema apply ",
             Write("bad.vmig", "version 2\n# a typo below\nadd colum users.x int32 null\n")));
  EXPECT_EQ(syntax.rc, 1);
  EXPECT_TRUE(Has(syntax.err, "voxctl: INVALID_ARGUMENT: line 3: ")) << syntax.err;
  EXPECT_EQ(Voxctl(StrCat("schema diff ", dir_.path(), "/bad.vmig")).rc, 1);

  // Usage errors: nothing is sent.
  const Ran missing = Voxctl(StrCat("schema apply ", dir_.path(), "/nope.vmig"));
  EXPECT_EQ(missing.rc, 2);
  EXPECT_TRUE(Has(missing.err, StrCat("voxctl: cannot read ", dir_.path(),
                                      "/nope.vmig: No such file or directory")))
      << missing.err;
  const Ran empty = Voxctl(StrCat("schema apply ", Write("empty.vmig", "\n\n")));
  EXPECT_EQ(empty.rc, 2);
  EXPECT_TRUE(Has(empty.err, "is empty")) << empty.err;
  EXPECT_EQ(Voxctl("schema apply").rc, 2);
  EXPECT_EQ(Voxctl("schema").rc, 2);
  EXPECT_EQ(Voxctl("schema drop").rc, 2);
  EXPECT_EQ(Voxctl("schema show extra").rc, 2);
  EXPECT_EQ(Version(), 1u);

  // No server there: exit 3.
  const Ran down = Voxctl("schema show --timeout_ms=2000", "", "127.0.0.1:1");
  EXPECT_EQ(down.rc, 3) << down.err;

  // FILE - reads stdin.
  const Ran piped = Voxctl("schema apply -", kHeadline);
  ASSERT_EQ(piped.rc, 0) << piped.err;
  EXPECT_TRUE(Has(piped.out, "version 1 -> 2: applied\n"));
  EXPECT_EQ(Version(), 2u);
}

TEST_F(VoxctlSchemaTest, TheOperationsAreCallableByName) {
  const Ran ops = Voxctl("ops");
  EXPECT_TRUE(Has(ops.out, "\nApplyMigration ")) << ops.out;
  EXPECT_TRUE(Has(ops.out, " text:string confirm_destructive:bool dry_run:bool\n"));
  EXPECT_TRUE(Has(ops.out, "\nGetSchema"));
  EXPECT_TRUE(Has(Voxctl("help apply_migration").out, "dry_run"));

  const Ran dry = Voxctl(
      "call ApplyMigration text='version 2; add column users.karma int32 default 0' "
      "dry_run=true --json");
  ASSERT_EQ(dry.rc, 0) << dry.err;
  EXPECT_TRUE(Has(
      dry.out,
      R"({"from_version":1,"to_version":2,"applied":false,"destructive":false,"changes":["add column users.karma int32 default 0: 2 rows hold the default"])"))
      << dry.out;
  EXPECT_EQ(Version(), 1u);
  const Ran applied =
      Voxctl("call apply_migration text='version 2; add column users.karma int32 default 0'");
  ASSERT_EQ(applied.rc, 0) << applied.err;
  EXPECT_TRUE(Has(applied.out, "applied       true\n")) << applied.out;
  const Ran schema = Voxctl("call GetSchema --format=json");
  ASSERT_EQ(schema.rc, 0) << schema.err;
  EXPECT_TRUE(Has(schema.out, R"({"version":2,"builtin_version":1,)")) << schema.out;

  // The shell runs the schema commands too.
  const Ran shell = Voxctl("shell", "schema show\nschema diff /nonexistent.vmig\n");
  EXPECT_EQ(shell.rc, 2);  // the last command that failed
  EXPECT_TRUE(Has(shell.out, "schema version 2 (built-in: 1, migrations applied: 1)")) << shell.out;
}

TEST_F(VoxctlSchemaTest, OnlyAnAdminTokenMigrates) {
  constexpr char kAdmin[] = "ops-secret-0123456789abcdef", kApp[] = "web-secret-0123456789abcdef";
  const std::string tokens = StrCat(dir_.path(), "/tokens");
  {
    std::ofstream out(tokens);
    out << "admin ops " << scram::FormatVerifier(*scram::MakeVerifier(kAdmin)) << "\n"
        << "app web1 " << scram::FormatVerifier(*scram::MakeVerifier(kApp)) << "\n";
  }
  ::chmod(tokens.c_str(), 0600);
  ServerProcess server(dir_.path() + "/tokened", {"--token_file=" + tokens});
  ASSERT_NE(server.port(), 0);
  const std::string at = StrCat("127.0.0.1:", server.port());
  const std::string file = Write("v2.vmig", kHeadline);

  const Ran app = Voxctl(StrCat("--token=web1:", kApp, " schema apply ", file), "", at);
  EXPECT_EQ(app.rc, 1);
  EXPECT_TRUE(Has(app.err, "voxctl: PERMISSION_DENIED: only an admin token may migrate the schema"))
      << app.err;
  const Ran app_diff = Voxctl(StrCat("--token=web1:", kApp, " schema diff ", file), "", at);
  EXPECT_EQ(app_diff.rc, 1);
  const Ran app_show = Voxctl(StrCat("--token=web1:", kApp, " schema show"), "", at);
  ASSERT_EQ(app_show.rc, 0) << app_show.err;
  EXPECT_TRUE(Has(app_show.out, "schema version 1 "));

  const Ran admin = Voxctl(StrCat("--token=ops:", kAdmin, " schema apply ", file), "", at);
  ASSERT_EQ(admin.rc, 0) << admin.err;
  EXPECT_TRUE(
      Has(Voxctl(StrCat("--token=web1:", kApp, " schema show"), "", at).out, "schema version 2 "));
}

TEST_F(VoxctlSchemaTest, AnAppliedMigrationSurvivesAKill) {
  ASSERT_EQ(Voxctl(StrCat("schema apply ", Write("v2.vmig", kHeadline))).rc, 0);
  ASSERT_TRUE(client_
                  ->Call(rpc::UpdateRow{
                      "users", users_[1], {rpc::Field::Text("headline", "answered once durable")}})
                  .ok());
  client_.reset();
  server_->Kill(SIGKILL);
  server_ = std::make_unique<ServerProcess>(dir_.path() + "/db");
  ASSERT_NE(server_->port(), 0);
  client_ = server_->Connect();
  ASSERT_NE(client_, nullptr);
  const rpc::SchemaInfo schema = CallOk(*client_, rpc::GetSchema{});
  EXPECT_EQ(schema.version, 2u);
  ASSERT_EQ(schema.history.size(), 1u);
  EXPECT_EQ(schema.history[0], kHeadline);
  EXPECT_TRUE(Has(CallOk(*client_, rpc::GetRow{"users", users_[1]}),
                  R"("headline":"answered once durable")"));
}

}  // namespace
}  // namespace vox

namespace vox {
namespace {

// `voxctl wal dump` decodes records with the schema they were written
// under, also when the log begins after a snapshot (its older segments
// gone): it starts from that snapshot's schema.
TEST_F(VoxctlSchemaTest, WalDumpDecodesAddedTablesAfterASnapshot) {
  ASSERT_EQ(Voxctl(StrCat("schema apply ",
                          Write("topics.vmig", "version 2\nadd table room_topics\n"
                                               "add column room_topics.name string(100) default ''\n")))
                .rc,
            0);
  CallOk(*client_, rpc::InsertRow{"room_topics", {rpc::Field::Text("name", "Jazz")}});
  const Ran whole = Voxctl(StrCat("wal dump --data=", dir_.path(), "/db"));
  EXPECT_EQ(whole.rc, 0) << whole.err;
  EXPECT_TRUE(Has(whole.out, "migration: version 2;")) << whole.out;
  EXPECT_TRUE(Has(whole.out, "room_topics put row 0")) << whole.out;

  CallOk(*client_, rpc::Checkpoint{});
  client_.reset();
  server_->Kill(SIGKILL);
  // The log now begins after the snapshot, as once older segments are pruned.
  std::filesystem::remove_all(dir_.path() + "/db/wal");
  server_ = std::make_unique<ServerProcess>(dir_.path() + "/db");
  client_ = server_->Connect();
  ASSERT_NE(client_, nullptr);
  CallOk(*client_, rpc::InsertRow{"room_topics", {rpc::Field::Text("name", "Talk")}});
  const Ran after = Voxctl(StrCat("wal dump --data=", dir_.path(), "/db"));
  EXPECT_EQ(after.rc, 0) << after.err;
  EXPECT_TRUE(Has(after.out, "room_topics put row 1")) << after.out;
  EXPECT_FALSE(Has(after.out, "undecodable")) << after.out;
}

}  // namespace
}  // namespace vox
