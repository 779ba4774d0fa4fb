// voxctl: the operator's command-line tool.
//
//   voxctl demo   [--scale=0.01] [--seed=42]   load generated data, run every
//                                              documented data flow, print them
//   voxctl memory [--scale=0.1]  [--seed=42]   bytes per row for every table
//   voxctl wal dump   --data=DIR [--json]      every WAL record, readable or as JSON lines
//   voxctl wal verify --data=DIR               check every segment and record; exit 1 if bad
//   voxctl snapshot take   --data=DIR          recover the directory, write a snapshot, prune
//   voxctl snapshot list   --data=DIR          the directory's snapshots, newest first
//   voxctl snapshot verify --data=DIR          read and check every snapshot
//   voxctl restore --data=DIR --to=NEW [--lsn=N | --time=RFC3339]
//                                              point-in-time copy into a new data directory
//   voxctl token create --role=R --name=N      a token file line (SCRAM-SHA-256 verifier)
//
// Against a running server (tools/remote_commands.h, docs/voxctl.md):
//   voxctl call OP FIELD=VALUE ...             any protocol operation; shortcuts too
//   voxctl call ...Report ... --chart=F.svg    a report, also drawn as an SVG chart
//   voxctl ops | help OP                       the operations and their fields
//   voxctl shell                               the same, one line at a time
//   voxctl schema show|diff FILE|apply FILE    schema migrations (tools/voxctl_migration.h)
//   voxctl watch room ID|user ID|table NAME    a change stream as it comes (tools/voxctl_watch.h)
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "engine/ops/generic.h"
#include "engine/ops/identity.h"
#include "engine/ops/ledger.h"
#include "engine/ops/maintenance.h"
#include "engine/ops/media.h"
#include "engine/ops/moderation.h"
#include "engine/ops/notifications.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "net/scram.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"
#include "tools/remote_commands.h"
#include "tools/voxctl_schema.h"
#include "tools/voxctl_shell.h"
#include "tools/voxctl_watch.h"
#include "wal/change_codec.h"
#include "engine/ops/migration.h"
#include "wal/checkpoint.h"
#include "wal/recovery.h"
#include "wal/snapshot.h"
#include "wal/wal_reader.h"
#include "wal/wal_sink.h"

ABSL_FLAG(double, scale, -1, "scale factor of the generated data (demo: 0.01, memory: 0.1)");
ABSL_FLAG(uint64_t, seed, 42, "seed of the generated data");
ABSL_FLAG(std::string, data, "", "the database's data directory (wal, snapshot commands)");
ABSL_FLAG(bool, json, false, "print JSON lines instead of text");
ABSL_FLAG(std::string, to, "", "restore: the new data directory (must not exist or be empty)");
ABSL_FLAG(uint64_t, lsn, 0, "restore: stop after this LSN (0: the end of the log)");
ABSL_FLAG(std::string, time, "", "restore: stop before the first transaction after this time");
ABSL_FLAG(std::string, server, "127.0.0.1:7070", "call, shell: the server, HOST:PORT");
ABSL_FLAG(std::string, token, "",
          "call, shell: the credential, NAME:SECRET (or an older unnamed token), proven with "
          "SCRAM-SHA-256 (empty: a loopback server without tokens); prefer --token_file");
ABSL_FLAG(std::string, token_file, "",
          "call, shell: a file whose first line is the credential (NAME:SECRET)");
ABSL_FLAG(bool, tls, false, "call, shell: connect with TLS (the server runs with --tls_cert)");
ABSL_FLAG(std::string, tls_ca, "",
          "call, shell: PEM file of the CA that must have signed the server's certificate "
          "(implies --tls; default: the system's CAs)");
ABSL_FLAG(std::string, role, "", "token create: admin, app or readonly");
ABSL_FLAG(std::string, name, "", "token create: the token's name (what the client logs in as)");
ABSL_FLAG(std::string, credential_file, "",
          "token create: write the client's credential (NAME:SECRET) to this new file, mode "
          "0600, instead of printing a generated one");
ABSL_FLAG(int64_t, timeout_ms, 10000, "call, shell: connect and per-request timeout");
ABSL_FLAG(std::string, format, "table", "call, shell: how results print: table, json or csv");
ABSL_FLAG(std::string, chart, "",
          "call: draw a report's time series as an SVG chart into this file");
ABSL_FLAG(std::string, chart_column, "", "--chart: the value column to draw (default: the first)");
ABSL_FLAG(std::string, chart_table, "", "--chart: the report table to draw (default: the first)");
ABSL_FLAG(std::string, chart_type, "",
          "--chart: line or bar (default: line above 12 buckets, else bar)");
ABSL_FLAG(int64_t, from_lsn, -1,
          "watch: print the events of transactions after this LSN (-1: from now); also "
          "spelled --from-lsn");
ABSL_FLAG(int64_t, count, 0, "watch: exit 0 after this many events (0: no limit)");
ABSL_FLAG(double, idle_exit, 0,
          "watch: exit 0 after this many seconds without an event (0: never); also spelled "
          "--idle-exit");
ABSL_FLAG(bool, confirm_destructive, false,
          "schema apply: let a migration's destructive steps (narrow, drop) run; also "
          "spelled --confirm-destructive");

namespace vox {
namespace {

std::string Message(const absl::Status& s) { return std::string(ToStd(s.message())); }

void Progress(std::string_view phase, uint64_t done, uint64_t total) {
  std::fprintf(stderr, "\r  loading %-12.*s %10llu / %llu rows", static_cast<int>(phase.size()),
               phase.data(), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  if (done == total) std::fprintf(stderr, "\n");
}

absl::StatusOr<GeneratedData> Load(Database& db, double scale) {
  std::printf("Generating the WORKLOAD.md data set at SF=%g (seed %llu)...\n", scale,
              static_cast<unsigned long long>(absl::GetFlag(FLAGS_seed)));
  GenerateOptions options{.scale = scale, .seed = absl::GetFlag(FLAGS_seed)};
  options.progress = Progress;
  auto data = GenerateWorkload(db, options);
  if (data.ok()) {
    std::printf("Loaded %llu rows in %.2f s.\n\n",
                static_cast<unsigned long long>(data->total_rows), data->load_seconds);
  }
  return data;
}

// ---- voxctl memory ----------------------------------------------------------

int Memory(double scale) {
  Database db(WorkloadDatabaseOptions(absl::GetFlag(FLAGS_seed)));
  auto data = Load(db, scale);
  if (!data.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(data.status()).c_str());
    return 1;
  }
  std::printf("%-20s %12s %14s %14s %10s %10s\n", "table", "rows", "column bytes", "index bytes",
              "B/row", "idx B/row");
  size_t total_rows = 0, total_col = 0, total_idx = 0;
  for (const TableDef& def : kTables) {
    const Table& t = db.table(def.id);
    const size_t rows = t.live_count(), col = t.ColumnBytes(), idx = t.IndexBytes();
    total_rows += rows;
    total_col += col;
    total_idx += idx;
    std::printf("%-20.*s %12zu %14zu %14zu %10.1f %10.1f\n", static_cast<int>(def.name.size()),
                def.name.data(), rows, col, idx, rows ? double(col) / rows : 0.0,
                rows ? double(idx) / rows : 0.0);
  }
  std::printf("%-20s %12zu %14zu %14zu %10.1f %10.1f\n", "total", total_rows, total_col, total_idx,
              double(total_col) / total_rows, double(total_idx) / total_rows);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("\nresident memory (max): %.1f MiB\n", usage.ru_maxrss / 1024.0);
  return 0;
}

// ---- voxctl demo --------------------------------------------------------------

class Demo {
 public:
  Demo(Database& db, const GeneratedData& data) : db_(db), data_(data) {}

  int Run() {
    Section("Reads on the generated data (WORKLOAD R1-R9)");
    Reads();
    Section("Seed flow: User Registration");
    const Uuid maya = Register("maya", "Maya");
    const Uuid leo = Register("leo", "Leo");
    const Uuid sam = Register("sam", "Sam");
    Section("Seed flow: Create & Join Room");
    const std::string_view tags[] = {"music", "jazz"};
    auto room = CreateAndOpenRoom(db_, Ctx(),
                                  {.owner_id = maya,
                                   .room_code = "jazz-night",
                                   .title = "Jazz night",
                                   .settings = {.max_participants = 50, .tags = tags}});
    if (!Check(room.status(), "create and open room 'jazz-night'")) return 1;
    ShowRow(TableId::rooms, room->room_id);
    Check(JoinRoom(db_, Ctx(), room->room_id, leo).status(), "leo joins");
    Check(JoinRoom(db_, Ctx(), room->room_id, sam).status(), "sam joins");
    Check(SetHandRaised(db_, Ctx(), room->room_id, leo, leo, true), "leo raises a hand");
    Check(SetMuted(db_, Ctx(), room->room_id, maya, sam, true), "maya (host) mutes sam");
    ShowPresent(room->room_id);
    Section("Refusals: every check answers with a reason");
    Refused(JoinRoom(db_, Ctx(), room->room_id, leo).status(), "leo joins twice");
    Refused(SetMuted(db_, Ctx(), room->room_id, sam, sam, false), "sam unmutes himself");
    Refused(EndRoom(db_, Ctx(), room->room_id, leo), "leo ends maya's room");
    Refused(Gift(db_, Ctx(), {.sender_id = leo, .receiver_id = maya, .amount = 500}).status(),
            "leo gifts 500 coins he does not have");
    const NamedValue change[] = {{"action", "USER_LOGOUT"}};
    Refused(
        UpdateRow(db_, Ctx(), TableId::audit_logs, db_.table(TableId::audit_logs).id(0), change),
        "an audit row is edited");
    Section("Seed flow: Recording");
    RecordingFlow(room->room_id, maya);
    Section("Virtual economy: top-up and a gift with its platform fee");
    Check(SetFee(db_, Ctx(),
                 {.transfer_type = TransferType::GIFT,
                  .fee_bps = 1000,
                  .min_fee = 1,
                  .effective_from = Ctx().now})
              .status(),
          "gift fee set to 10%");
    Check(TopUp(db_, Ctx(), {.user_id = leo, .amount = 1000, .idempotency_key = "topup-leo-1"})
              .status(),
          "leo tops up 1000 coins");
    auto gift = Gift(db_, Ctx(),
                     {.sender_id = leo,
                      .receiver_id = maya,
                      .amount = 200,
                      .room_id = room->room_id,
                      .idempotency_key = "demo-gift-leo-maya"});
    if (Check(gift.status(), "leo gifts maya 200 coins")) {
      std::printf("      fee %lld to the platform, %lld to maya\n",
                  static_cast<long long>(gift->fee), static_cast<long long>(200 - gift->fee));
    }
    auto retry = Gift(db_, Ctx(),
                      {.sender_id = leo,
                       .receiver_id = maya,
                       .amount = 200,
                       .room_id = room->room_id,
                       .idempotency_key = "demo-gift-leo-maya"});
    if (retry.ok())
      std::printf("  ok  a retry with the same key: already_done=%d\n", retry->already_done);
    ShowBalance(leo, "leo");
    ShowBalance(maya, "maya");
    const LedgerAudit audit = AuditAllWallets(db_);
    std::printf("  ledger audit over %lld wallets, %lld transfers: %s\n",
                static_cast<long long>(audit.wallets), static_cast<long long>(audit.transfers),
                audit.ok() ? "every balance equals its ledger, debits equal credits" : "MISMATCH");
    Section("Moderation with expiry, then time passes");
    const Uuid admin = Register("root", "Root");
    {
      Txn txn(db_, Ctx().now);
      txn.Set(TableId::users, db_.table(TableId::users).FindById(admin), users::role,
              UserRole::ADMIN);
      txn.Commit();
    }
    Check(TakeModerationAction(db_, Ctx(),
                               {.moderator_id = admin,
                                .target_user_id = sam,
                                .type = ModerationActionType::SUSPENSION,
                                .reason = "spam",
                                .expires_at = Ctx().now + 3600 * kMicrosPerSecond})
              .status(),
          "root suspends sam for an hour (sam leaves the room)");
    ShowPresent(room->room_id);
    clock_ += 2 * 3600 * kMicrosPerSecond;
    auto report = RunMaintenance(db_, Ctx());
    if (Check(report.status(), "maintenance two hours later")) {
      std::printf(
          "      lifted %lld restrictions, deleted %lld expired recordings, voided %lld "
          "reservations\n",
          static_cast<long long>(report->restrictions_lifted),
          static_cast<long long>(report->recordings_deleted),
          static_cast<long long>(report->reservations_voided));
    }
    Section("End the room");
    Check(EndRoom(db_, Ctx(), room->room_id, maya), "maya ends 'jazz-night'");
    ShowRow(TableId::rooms, room->room_id);
    ShowAudit(room->room_id);
    Section("Seed flow: Soft Delete User");
    Check(DeleteUser(db_, Ctx(), leo, leo), "leo deletes his account");
    ShowRow(TableId::users, leo);
    const absl::Status indexes = db_.VerifyIndexes();
    std::printf("\nEvery index agrees with a full scan of its table: %s\n",
                indexes.ok() ? "yes" : Message(indexes).c_str());
    return failures_ == 0 && indexes.ok() ? 0 : 1;
  }

 private:
  OpContext Ctx() {
    clock_ += kMicrosPerSecond;
    return {.now = clock_};
  }
  void Section(std::string_view title) {
    std::printf("\n== %.*s\n", int(title.size()), title.data());
  }
  bool Check(const absl::Status& s, std::string_view what) {
    if (s.ok()) {
      std::printf("  ok  %.*s\n", int(what.size()), what.data());
      return true;
    }
    ++failures_;
    std::printf("  FAILED  %.*s: %s\n", int(what.size()), what.data(), Message(s).c_str());
    return false;
  }
  void Refused(const absl::Status& s, std::string_view what) {
    if (s.ok()) {
      ++failures_;
      std::printf("  NOT REFUSED  %.*s\n", int(what.size()), what.data());
      return;
    }
    std::printf("  refused  %.*s -> %s: %s\n", int(what.size()), what.data(),
                absl::StatusCodeToString(s.code()).c_str(), Message(s).c_str());
  }
  void ShowRow(TableId t, const Uuid& id) {
    const RowId r = db_.table(t).FindById(id);
    std::printf("      %.*s %s\n", int(GetTable(t).name.size()), GetTable(t).name.data(),
                RowToJson(db_, t, r).c_str());
  }
  Uuid Register(const std::string& name, const std::string& display) {
    const std::string email = name + "@demo.example";
    auto r = RegisterUser(db_, Ctx(),
                          {.username = name,
                           .email = email,
                           .password_hash = "$argon2id$v=19$m=65536$demo",
                           .display_name = display});
    if (Check(r.status(), StrCat("register ", name, " (user, LOCAL sign-in, wallet, audit)"))) {
      ShowRow(TableId::users, r->user_id);
      return r->user_id;
    }
    return {};
  }
  void ShowPresent(const Uuid& room) {
    std::vector<ParticipantState> present;
    PresentParticipants(db_, db_.table(TableId::rooms).FindById(room), &present);
    std::printf("      present now:");
    for (const auto& p : present) {
      std::printf(" %s(%s%s%s)",
                  std::string(db_.table(TableId::users).GetString(p.user, users::username)).c_str(),
                  std::string(EnumName(EnumId::ParticipantRole, p.role)).c_str(),
                  p.muted ? ",muted" : "", p.hand_raised ? ",hand" : "");
    }
    std::printf("\n");
  }
  void ShowBalance(const Uuid& user, std::string_view name) {
    auto b = GetWalletBalance(db_, user);
    if (!b.ok()) return;
    std::printf("      %.*s: balance %lld, available %lld, ledger consistent: %s\n",
                int(name.size()), name.data(), static_cast<long long>(b->balance),
                static_cast<long long>(b->available), b->ledger_consistent ? "yes" : "NO");
  }
  void ShowAudit(const Uuid& room) {
    std::vector<RowId> rows;
    RoomAuditTrail(db_, db_.table(TableId::rooms).FindById(room), 100, std::nullopt, &rows);
    std::printf("      audit trail, newest first:");
    const Table& audit = db_.table(TableId::audit_logs);
    for (RowId r : rows) {
      std::printf(" %s", std::string(EnumName(EnumId::AuditAction,
                                              audit.GetEnum<AuditAction>(r, audit_logs::action)))
                             .c_str());
    }
    std::printf("\n");
  }
  void RecordingFlow(const Uuid& room, const Uuid& host) {
    auto rec = StartRecording(db_, Ctx(),
                              {.room_id = room,
                               .actor_id = host,
                               .storage_key = "recordings/jazz-night/1.webm",
                               .storage_bucket = "vox-recordings",
                               .codec = "opus"});
    if (!Check(rec.status(), "host starts recording (STARTED, audit RECORDING_STARTED)")) return;
    const Uuid id = rec->recording_id;
    Check(MarkRecordingInProgress(db_, Ctx(), id), "recorder reports IN_PROGRESS");
    Check(StopRecording(db_, Ctx(),
                        {.recording_id = id,
                         .actor_id = host,
                         .size_bytes = 48'000'000,
                         .duration_seconds = 1800}),
          "host stops recording (STOPPED, audit RECORDING_STOPPED)");
    Check(BeginProcessing(db_, Ctx(), id), "background job: PROCESSING");
    Check(RecordingReady(db_, Ctx(), id, "https://cdn.example/jazz-night/1.webm"),
          "background job: READY with its storage url");
    ShowRow(TableId::recordings, id);
    Refused(StopRecording(db_, Ctx(), {.recording_id = id, .actor_id = host}),
            "stopping a READY recording");
  }
  void Reads() {
    const Table& users = db_.table(TableId::users);
    const RowId u = FindUserByEmail(db_, data_.sample_emails[0]);
    std::printf("  R1 user by email %s -> %s\n", data_.sample_emails[0].c_str(),
                std::string(users.GetString(u, users::username)).c_str());
    std::vector<ParticipantState> present;
    PresentParticipants(db_, data_.live_rooms[0], &present);
    std::printf("  R2 present participants of a LIVE room: %zu\n", present.size());
    std::vector<RowId> rows;
    UserPresentRooms(db_, present[0].user, &rows);
    std::printf("  R3 rooms that participant is in now: %zu\n", rows.size());
    RoomAuditTrail(db_, data_.live_rooms[0], 100, std::nullopt, &rows);
    std::printf("  R4 audit page of that room: %zu rows\n", rows.size());
    auto expired = ExpiredRecordings(db_, kWorkloadNow, 1000);
    if (expired.ok()) std::printf("  R5 expired recordings (first 1000): %zu\n", expired->size());
    const RoomStats stats = RoomStatistics(db_, data_.live_rooms[0]);
    std::printf("  R6 room statistics: %lld participations, %lld present, average %.0f s\n",
                static_cast<long long>(stats.participations), static_cast<long long>(stats.present),
                stats.average_duration_seconds);
    std::string tag;
    for (const auto& [name, id] : data_.tag_ids) {
      LiveRoomsByTag(db_, name, 50, std::nullopt, &rows);
      if (!rows.empty()) {
        tag = name;
        break;
      }
    }
    std::printf("  R7 LIVE public rooms tagged %s (page of 50): %zu\n", tag.c_str(), rows.size());
    if (!data_.banned.empty()) {
      std::printf(
          "  R8 ban check on a banned pair: %s\n",
          IsBanned(db_, data_.banned[0].room, data_.banned[0].user) ? "banned" : "not banned");
    }
    auto page = WalletTransactions(db_, users.id(data_.funded_users[0]), "COIN", 50);
    if (page.ok())
      std::printf("  R9 a user's transactions (page of 50): %zu\n", page->transfers.size());
  }

  Database& db_;
  const GeneratedData& data_;
  Timestamp clock_ = kWorkloadNow;
  int failures_ = 0;
};

// ---- voxctl snapshot / restore ---------------------------------------------------

// A progress bar on stderr for long file work.
ProgressFn Bar(std::string_view what) {
  return [what = std::string(what)](uint64_t done, uint64_t total) {
    const int pct = total == 0 ? 100 : static_cast<int>(done * 100 / total);
    std::fprintf(stderr, "\r  %-10s [%-40s] %3d%% %8.1f MiB", what.c_str(),
                 std::string(static_cast<size_t>(pct * 40 / 100), '#').c_str(), pct,
                 static_cast<double>(done) / (1 << 20));
    if (done >= total) std::fprintf(stderr, "\n");
  };
}

std::string DataFlag() {
  const std::string data = absl::GetFlag(FLAGS_data);
  if (data.empty()) std::fprintf(stderr, "voxctl: --data=DIR names the data directory\n");
  return data;
}

// Recovers `dir` into `db` (no new database is created), printing what it did.
absl::StatusOr<RecoveryReport> RecoverQuietly(const std::string& dir, Database& db,
                                              RecoveryOptions options = {}) {
  options.data_dir = dir;
  options.create = false;
  auto report = Recover(PosixFileIo(), options, db);
  if (report.ok()) std::printf("recovered: %s\n", DescribeRecovery(*report).c_str());
  return report;
}

int SnapshotTake() {
  const std::string dir = DataFlag();
  if (dir.empty()) return 2;
  Database db;
  auto report = RecoverQuietly(dir, db);
  if (!report.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(report.status()).c_str());
    return 1;
  }
  Checkpointer cp(PosixFileIo(), dir, report->database_id, /*keep=*/3);
  auto pause = cp.Start(db, report->last_lsn);
  auto info = pause.ok() ? cp.Wait() : absl::StatusOr<SnapshotInfo>(pause.status());
  if (!info.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(info.status()).c_str());
    return 1;
  }
  std::printf("snapshot %s: LSN %llu, %llu rows, %.1f MiB in %.2f s (engine pause %.3f ms)\n",
              info->path.c_str(), static_cast<unsigned long long>(info->lsn),
              static_cast<unsigned long long>(info->total_rows),
              static_cast<double>(info->bytes) / (1 << 20), info->seconds, *pause * 1000);
  return 0;
}

int SnapshotList(bool verify) {
  const std::string dir = DataFlag();
  if (dir.empty()) return 2;
  int bad = 0;
  const auto entries = ListSnapshots(PosixFileIo(), dir);
  if (entries.empty()) std::printf("no snapshots in %s\n", SnapshotDir(dir).c_str());
  for (const SnapshotEntry& e : entries) {
    absl::StatusOr<SnapshotInfo> info =
        verify ? VerifySnapshot(PosixFileIo(), e.path, Bar("verify")) : e.info;
    if (!info.ok()) {
      ++bad;
      std::printf("%s  BAD: %s\n", e.path.c_str(), Message(info.status()).c_str());
      continue;
    }
    std::printf("%s  LSN %llu  %s  %llu rows  %.1f MiB  schema %u%s\n", e.path.c_str(),
                static_cast<unsigned long long>(info->lsn),
                FormatTimestamp(info->created_at).c_str(),
                static_cast<unsigned long long>(info->total_rows),
                static_cast<double>(info->bytes) / (1 << 20), info->schema_version,
                verify ? "  verified" : "");
  }
  return bad == 0 ? 0 : 1;
}

int Restore() {
  const std::string from = DataFlag(), to = absl::GetFlag(FLAGS_to);
  if (from.empty()) return 2;
  if (to.empty()) {
    std::fprintf(stderr, "voxctl: --to=DIR names the new data directory\n");
    return 2;
  }
  auto existing = PosixFileIo().List(to);
  if (existing.ok() && !existing->empty()) {
    std::fprintf(stderr, "voxctl: %s is not empty; restore into a new directory\n", to.c_str());
    return 1;
  }
  RecoveryOptions options;
  if (absl::GetFlag(FLAGS_lsn) > 0) options.stop_at_lsn = absl::GetFlag(FLAGS_lsn);
  if (!absl::GetFlag(FLAGS_time).empty()) {
    auto t = ParseTimestamp(absl::GetFlag(FLAGS_time));
    if (!t.ok()) {
      std::fprintf(stderr, "voxctl: --time: %s\n", Message(t.status()).c_str());
      return 2;
    }
    options.stop_at_time = *t;
  }
  Database db;
  auto report = RecoverQuietly(from, db, options);
  if (!report.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(report.status()).c_str());
    return 1;
  }
  // The copy is a database of its own from here on: a new identity, with
  // the restored state as its first snapshot.
  auto id = LoadOrCreateIdentity(PosixFileIo(), to, /*create=*/true);
  absl::Status s = id.ok() ? PosixFileIo().MakeDir(SnapshotDir(to)) : id.status();
  absl::StatusOr<SnapshotInfo> info =
      s.ok() ? WriteSnapshot(PosixFileIo(), db.Pin(), MetaOf(db, *id, report->last_lsn),
                             SnapshotDir(to), Bar("write"))
             : absl::StatusOr<SnapshotInfo>(s);
  if (!info.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(info.status()).c_str());
    return 1;
  }
  std::printf("restored into %s as database %s: snapshot at LSN %llu (%llu rows)\n", to.c_str(),
              FormatUuid(*id).c_str(), static_cast<unsigned long long>(report->last_lsn),
              static_cast<unsigned long long>(info->total_rows));
  return 0;
}

// ---- voxctl wal -----------------------------------------------------------------

int Wal(const std::string& what) {
  const std::string data = absl::GetFlag(FLAGS_data);
  if (data.empty()) {
    std::fprintf(stderr, "voxctl: --data=DIR names the database's data directory\n");
    return 2;
  }
  auto id = LoadOrCreateIdentity(PosixFileIo(), data, /*create=*/false);
  if (!id.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(id.status()).c_str());
    return 1;
  }
  const bool dump = what == "dump", json = absl::GetFlag(FLAGS_json);
  uint64_t bytes = 0;
  // Records decode with the schema they were written under: the log's
  // migrations are followed from the built-in schema, or, for a log that
  // begins after a snapshot, from the schema of the newest snapshot before
  // its first record.
  Database schema;
  uint64_t first_lsn = 0;
  if (auto names = PosixFileIo().List(WalDir(data)); names.ok()) {
    for (const std::string& n : *names) {
      const uint64_t lsn = wal::ParseSegmentName(n);
      if (lsn != 0 && (first_lsn == 0 || lsn < first_lsn)) first_lsn = lsn;
    }
  }
  if (first_lsn > 1) {
    // The schema at LSN first_lsn - 1: a snapshot's at or after it, less the
    // migrations the log holds up to that snapshot.
    const SnapshotEntry* base = nullptr;
    const std::vector<SnapshotEntry> snapshots = ListSnapshots(PosixFileIo(), data);
    for (const SnapshotEntry& e : snapshots) {
      if (e.info.ok() && e.info->lsn + 1 >= first_lsn &&
          (base == nullptr || e.info->lsn < base->info->lsn)) {
        base = &e;
      }
    }
    absl::Status s = base == nullptr
                         ? absl::NotFoundError("no snapshot covers the records before the log")
                         : absl::OkStatus();
    if (s.ok()) {
      auto history = ReadSnapshotSchema(PosixFileIo(), base->path);
      size_t logged = 0;  // migrations in the log up to the snapshot
      auto pre = ScanWal(PosixFileIo(), WalDir(data), *id, {.repair = false},
                         [&](const WalRecord& r) -> absl::Status {
                           logged += r.lsn <= base->info->lsn &&
                                     r.type == wal::RecordType::kSchemaChange;
                           return absl::OkStatus();
                         });
      s = !history.ok() ? history.status() : pre.status();
      for (size_t i = 0; s.ok() && i + logged < history->size(); ++i) {
        s = ReplayMigration(schema, (*history)[i], 0);
      }
    }
    if (!s.ok()) {
      std::fprintf(stderr, "voxctl: decoding from schema version %u (%s)\n", schema.schema_version(),
                   Message(s).c_str());
    }
  }
  auto scan = ScanWal(PosixFileIo(), WalDir(data), *id, {.repair = false},
                      [&](const WalRecord& r) -> absl::Status {
                        bytes += r.payload.size();
                        if (!dump) return absl::OkStatus();
                        auto when = wal::CommitTime(r.payload);
                        auto what = wal::DescribeRecord(schema, r.type, r.payload);
                        const std::string time = when.ok() ? FormatTimestamp(*when) : "?";
                        const std::string desc =
                            what.ok() ? *what : StrCat("undecodable: ", what.status().message());
                        if (json) {
                          std::printf(
                              "{\"lsn\":%llu,\"segment\":\"%s\",\"offset\":%llu,\"bytes\":%zu,"
                              "\"committed\":\"%s\",\"changes\":%s}\n",
                              static_cast<unsigned long long>(r.lsn), r.segment->c_str(),
                              static_cast<unsigned long long>(r.offset), r.payload.size(),
                              time.c_str(), JsonQuote(desc).c_str());
                        } else {
                          std::printf("LSN %llu  %s @%llu  %zu bytes  %s\n    %s\n",
                                      static_cast<unsigned long long>(r.lsn), r.segment->c_str(),
                                      static_cast<unsigned long long>(r.offset), r.payload.size(),
                                      time.c_str(), desc.c_str());
                        }
                        return absl::OkStatus();
                      });
  if (!scan.ok()) {
    std::fprintf(stderr, "voxctl: the log is damaged: %s\n", Message(scan.status()).c_str());
    return 1;
  }
  std::fprintf(dump && json ? stderr : stdout,
               "database %s: %llu records (LSN %llu..%llu), %llu payload bytes%s%s\n",
               FormatUuid(*id).c_str(), static_cast<unsigned long long>(scan->records),
               static_cast<unsigned long long>(scan->first_lsn),
               static_cast<unsigned long long>(scan->last_lsn),
               static_cast<unsigned long long>(bytes), scan->torn_tail ? "; torn tail at " : "",
               scan->torn_detail.c_str());
  return 0;
}

int DemoMain(double scale) {
  Database db(WorkloadDatabaseOptions(absl::GetFlag(FLAGS_seed)));
  auto data = Load(db, scale);
  if (!data.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(data.status()).c_str());
    return 1;
  }
  // With --data, the flows run durably: each transaction is in the
  // directory's write-ahead log (fsync) before the next one starts.
  const std::string dir = absl::GetFlag(FLAGS_data);
  std::unique_ptr<UringLogDevice> device;
  std::unique_ptr<WalWriter> writer;
  std::unique_ptr<WalCommitSink> sink;
  if (!dir.empty()) {
    Database scratch;
    auto report = Recover(PosixFileIo(), {.data_dir = dir}, scratch);
    if (report.ok() && !report->created && report->last_lsn > 0) {
      std::fprintf(stderr, "voxctl: %s already holds a database; use an empty directory\n",
                   dir.c_str());
      return 1;
    }
    auto dev = UringLogDevice::Create();
    absl::StatusOr<std::unique_ptr<WalWriter>> w =
        report.ok() && dev.ok()
            ? WalWriter::Open(PosixFileIo(), **dev,
                              {.dir = WalDir(dir), .database_id = report->database_id},
                              report->tail)
            : absl::StatusOr<std::unique_ptr<WalWriter>>(report.ok() ? dev.status()
                                                                     : report.status());
    if (!w.ok()) {
      std::fprintf(stderr, "voxctl: %s\n", Message(w.status()).c_str());
      return 1;
    }
    device = std::move(*dev);
    writer = std::move(*w);
    // The generated data goes in as the first snapshot; the flows follow in the log.
    Checkpointer cp(PosixFileIo(), dir, report->database_id, /*keep=*/3);
    auto pause = cp.Start(db, 0);
    auto snap = pause.ok() ? cp.Wait() : absl::StatusOr<SnapshotInfo>(pause.status());
    if (!snap.ok()) {
      std::fprintf(stderr, "voxctl: %s\n", Message(snap.status()).c_str());
      return 1;
    }
    std::printf("Snapshot of the generated data: %s (%.1f MiB, %.2f s; engine pause %.3f ms).\n",
                snap->path.c_str(), static_cast<double>(snap->bytes) / (1 << 20), snap->seconds,
                *pause * 1000);
    sink = std::make_unique<WalCommitSink>(*writer);
    db.set_commit_sink(sink.get());
    std::printf("Logging every transaction durably to %s/wal.\n", dir.c_str());
  }
  const int rc = Demo(db, *data).Run();
  if (writer) {
    const absl::Status s = writer->Sync();
    db.set_commit_sink(nullptr);
    std::printf(
        "\nWAL: %llu transactions logged and synced: %s. Inspect them with\n"
        "  voxctl wal dump --data=%s\n"
        "  voxctl snapshot list --data=%s\n",
        static_cast<unsigned long long>(writer->stats().records),
        s.ok() ? "ok" : Message(s).c_str(), dir.c_str(), dir.c_str());
  }
  return rc;
}

}  // namespace
}  // namespace vox

namespace vox {
namespace {

constexpr char kUsage[] =
    "voxctl <command> [flags]\n\n"
    "On a data directory:\n"
    "  demo     load generated data into the engine, run every documented data flow\n"
    "  memory   load generated data and print bytes per row for every table\n"
    "  wal dump --data=DIR [--json]   print every record of the write-ahead log\n"
    "  wal verify --data=DIR          check the write-ahead log\n"
    "  snapshot take|list|verify --data=DIR\n"
    "  restore --data=DIR --to=NEW [--lsn=N | --time=RFC3339]\n\n"
    "Credentials (docs/security.md):\n"
    "  token create --role=admin|app|readonly --name=NAME [--credential_file=F]\n"
    "                                 a token file line (stdout) for a secret read on stdin,\n"
    "                                 or a generated one shown once as NAME:SECRET\n\n"
    "Against a running server:\n"
    "  call OP [FIELD=VALUE ...]      run any protocol operation: call JoinRoom room_id=...\n"
    "  call SHORTCUT ...              stats, checkpoint, snapshots, user EMAIL, row TABLE UUID,\n"
    "                                 participants ROOM, audit ROOM\n"
    "  ops                            every operation with its fields and types\n"
    "  help OP                        one operation's fields, types and defaults\n"
    "  shell                          run commands line by line (history, Tab completion)\n"
    "  schema show                    the schema: version, migrations applied, tables, enums\n"
    "  schema diff FILE               what the migration in FILE would change (a dry run)\n"
    "  schema apply FILE [--confirm-destructive]\n"
    "                                 apply the migration in FILE (admin; - reads stdin)\n"
    "  watch room ID | user ID | table NAME|'*' [--from-lsn=N] [--count=N] [--idle-exit=S]\n"
    "                                 print changes as they commit, one line each (table or\n"
    "                                 --format=json lines); resumes by itself after a lost\n"
    "                                 connection; --from-lsn=N starts after LSN N\n"
    "  flags: --server=HOST:PORT (127.0.0.1:7070) --token_file=PATH | --token=NAME:SECRET\n"
    "         --tls [--tls_ca=CA.pem]\n"
    "         --timeout_ms=10000 --format=table|json|csv (--json = --format=json)\n"
    "  reports: --chart=FILE.svg [--chart_column=NAME] [--chart_table=NAME]\n"
    "           [--chart_type=line|bar]   draw a report's time series as an SVG chart\n\n"
    "Exit codes: 0 success; 1 the server refused (its code and message are printed);\n"
    "2 usage error (bad command, flag, field or value: nothing was sent);\n"
    "3 cannot connect or the connection was lost. docs/voxctl.md has the details.\n";

// Refuses unknown flags and bad flag values with exit 2 before Abseil's
// parser (which exits 1, the code of a refusal) sees them.
int CheckFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && name.starts_with("no")) {
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>() && eq == std::string_view::npos) continue;
    }
    if (flag == nullptr) {
      std::fprintf(stderr, "voxctl: unknown flag --%s (voxctl --help lists them)\n", name.c_str());
      return kExitUsage;
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::fprintf(stderr, "voxctl: --%s needs a value\n", name.c_str());
      return kExitUsage;
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "voxctl: --%s: %s\n", name.c_str(), error.c_str());
      return kExitUsage;
    }
  }
  return kExitOk;
}

// The remote flags, or why they are wrong (exit 2).
absl::StatusOr<RemoteOptions> RemoteOptionsFromFlags() {
  RemoteOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  const std::string format = absl::GetFlag(FLAGS_format);
  std::optional<voxctl::Format> f = voxctl::ParseFormat(format);
  if (!f) return absl::InvalidArgumentError("--format must be table, json or csv");
  options.format = absl::GetFlag(FLAGS_json) ? voxctl::Format::kJson : *f;
  options.chart = {.path = absl::GetFlag(FLAGS_chart),
                   .table = absl::GetFlag(FLAGS_chart_table),
                   .column = absl::GetFlag(FLAGS_chart_column),
                   .type = absl::GetFlag(FLAGS_chart_type)};
  const voxctl::ChartOptions& chart = options.chart;
  if (chart.path.empty() &&
      (!chart.table.empty() || !chart.column.empty() || !chart.type.empty())) {
    return absl::InvalidArgumentError(
        "--chart_table, --chart_column and --chart_type need --chart");
  }
  if (!chart.type.empty() && chart.type != "line" && chart.type != "bar") {
    return absl::InvalidArgumentError("--chart_type must be line or bar");
  }
  const int64_t timeout = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout <= 0) return absl::InvalidArgumentError("--timeout_ms must be positive");
  options.timeout = std::chrono::milliseconds(timeout);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls = absl::GetFlag(FLAGS_tls) || !options.tls_ca_file.empty();
  options.token = absl::GetFlag(FLAGS_token);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  if (!token_file.empty()) {
    if (!options.token.empty()) {
      return absl::InvalidArgumentError("give --token or --token_file, not both");
    }
    std::FILE* in = std::fopen(token_file.c_str(), "r");
    if (in == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("cannot read --token_file=", token_file, ": ", std::strerror(errno)));
    }
    char line[4096];
    const bool read = std::fgets(line, sizeof(line), in) != nullptr;
    std::fclose(in);
    std::string_view token = read ? std::string_view(line) : std::string_view();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.remove_suffix(1);
    }
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) {
      token.remove_prefix(1);
    }
    if (token.empty()) {
      return absl::InvalidArgumentError(
          StrCat("--token_file=", token_file, " has no token on its first line"));
    }
    options.token = std::string(token);
  }
  return options;
}

// `voxctl token create --role=R --name=N`: a token file line for the
// server (stdout) from a secret read on stdin (when stdin is not a
// terminal) or generated; a generated secret is shown once, as the client's
// credential NAME:SECRET, on stderr (or written to --credential_file).
int TokenCreate() {
  const std::string role = absl::GetFlag(FLAGS_role), name = absl::GetFlag(FLAGS_name);
  const std::string credential_file = absl::GetFlag(FLAGS_credential_file);
  if (role != "admin" && role != "app" && role != "readonly") {
    std::fprintf(stderr, "voxctl: token create needs --role=admin, app or readonly\n");
    return kExitUsage;
  }
  if (!scram::IsValidName(name)) {
    std::fprintf(stderr,
                 "voxctl: token create needs --name: 1-64 letters, digits, '.', '_', '-' or '@'\n");
    return kExitUsage;
  }
  std::string secret;
  if (!::isatty(0)) {
    std::getline(std::cin, secret);
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == '\n')) secret.pop_back();
  }
  const bool generated = secret.empty();
  if (generated) {
    absl::StatusOr<std::string> bytes = scram::RandomBytes(24);
    if (!bytes.ok()) {
      std::fprintf(stderr, "voxctl: %s\n", Message(bytes.status()).c_str());
      return 1;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : *bytes) {
      secret += kHex[c >> 4];
      secret += kHex[c & 15];
    }
  } else if (secret.size() < 16) {
    std::fprintf(stderr, "voxctl: the secret on stdin must be at least 16 characters\n");
    return kExitUsage;
  }
  absl::StatusOr<scram::Verifier> verifier = scram::MakeVerifier(secret);
  if (!verifier.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(verifier.status()).c_str());
    return 1;
  }
  if (!credential_file.empty()) {
    const int fd =
        ::open(credential_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const std::string line = StrCat(name, ":", secret, "\n");
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      std::fprintf(stderr, "voxctl: cannot write --credential_file=%s: %s\n",
                   credential_file.c_str(), std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return 1;
    }
    ::close(fd);
  }
  std::printf("%s %s %s\n", role.c_str(), name.c_str(), scram::FormatVerifier(*verifier).c_str());
  std::fflush(stdout);
  if (!credential_file.empty()) {
    std::fprintf(stderr, "voxctl: the client's credential is in %s (mode 0600)\n",
                 credential_file.c_str());
  } else if (generated) {
    std::fprintf(stderr,
                 "voxctl: add the line above to the server's --token_file. The client's "
                 "credential, shown only now (voxctl --token_file, ClientOptions::token):\n"
                 "%s:%s\n",
                 name.c_str(), secret.c_str());
  }
  return 0;
}

int Remote(const std::string& command, const std::vector<std::string>& args) {
  absl::StatusOr<RemoteOptions> options = RemoteOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "voxctl: %s\n", Message(options.status()).c_str());
    return kExitUsage;
  }
  if (command == "watch") {
    const int64_t from = absl::GetFlag(FLAGS_from_lsn);
    const double idle = absl::GetFlag(FLAGS_idle_exit);
    if (from < -1) {
      std::fprintf(stderr, "voxctl: --from-lsn must be an LSN, or -1 for from now\n");
      return kExitUsage;
    }
    if (idle < 0 || idle > 1e9) {
      std::fprintf(stderr, "voxctl: --idle-exit must be 0 (never) or a number of seconds\n");
      return kExitUsage;
    }
    return voxctl::RunWatch(
        args, *options,
        {.from_lsn = from < 0 ? std::nullopt : std::optional<uint64_t>(from),
         .count = absl::GetFlag(FLAGS_count),
         .idle_exit = std::chrono::milliseconds(static_cast<int64_t>(idle * 1000))});
  }
  if (command == "shell") {
    if (!args.empty()) {
      std::fprintf(stderr, "voxctl: shell takes no arguments\n");
      return kExitUsage;
    }
    return RunShell(*options);
  }
  std::vector<std::string> words = args;
  if (command != "call") words.insert(words.begin(), command);  // ops, help OP, schema ...
  if (absl::GetFlag(FLAGS_confirm_destructive)) {
    if (command != "schema") {
      std::fprintf(stderr, "voxctl: --confirm-destructive is for `voxctl schema apply`\n");
      return kExitUsage;
    }
    words.push_back("--confirm-destructive");
  }
  return RunCall(words, *options);
}

}  // namespace
}  // namespace vox

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(vox::kUsage);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      std::fputs(vox::kUsage, stdout);
      return 0;
    }
  }
  // The documented spellings with '-' (`schema apply --confirm-destructive`,
  // `watch --from-lsn=N --idle-exit=S`); Abseil's names take '_'.
  std::vector<std::string> respelled;
  respelled.reserve(argc);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    for (const std::string_view dashed : {"--confirm-destructive", "--from-lsn", "--idle-exit"}) {
      if (arg == dashed || (arg.starts_with(dashed) && arg[dashed.size()] == '=')) {
        std::string flag(arg);
        for (size_t c = 2; c < dashed.size(); ++c) {
          if (flag[c] == '-') flag[c] = '_';
        }
        argv[i] = respelled.emplace_back(std::move(flag)).data();
      }
    }
  }
  if (int rc = vox::CheckFlags(argc, argv); rc != 0) return rc;
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() == 3 && std::string(args[1]) == "wal" &&
      (std::string(args[2]) == "dump" || std::string(args[2]) == "verify")) {
    return vox::Wal(args[2]);
  }
  if (args.size() == 3 && std::string(args[1]) == "snapshot") {
    const std::string sub = args[2];
    if (sub == "take") return vox::SnapshotTake();
    if (sub == "list") return vox::SnapshotList(false);
    if (sub == "verify") return vox::SnapshotList(true);
  }
  if (args.size() == 2 && std::string(args[1]) == "restore") return vox::Restore();
  if (args.size() == 3 && std::string(args[1]) == "token" && std::string(args[2]) == "create") {
    return vox::TokenCreate();
  }
  if (args.size() == 2 && std::string(args[1]) == "help") {
    std::fputs(vox::kUsage, stdout);
    return 0;
  }
  if (args.size() >= 2) {
    const std::string command = args[1];
    if (command == "call" || command == "shell" || command == "ops" || command == "help" ||
        command == "schema" || command == "watch") {
      return vox::Remote(command, std::vector<std::string>(args.begin() + 2, args.end()));
    }
  }
  if (args.size() != 2) {
    std::fprintf(stderr, "%s", vox::kUsage);
    return vox::kExitUsage;
  }
  const std::string command = args[1];
  const double scale = absl::GetFlag(FLAGS_scale);
  if (scale != -1 && (scale < 0.0005 || scale > 50)) {
    std::fprintf(stderr, "voxctl: --scale must be between 0.0005 and 50\n");
    return vox::kExitUsage;
  }
  if (command == "demo") return vox::DemoMain(scale == -1 ? 0.01 : scale);
  if (command == "memory") return vox::Memory(scale == -1 ? 0.1 : scale);
  std::fprintf(stderr, "voxctl: unknown command '%s'\n%s", command.c_str(), vox::kUsage);
  return vox::kExitUsage;
}
