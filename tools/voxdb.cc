// voxdb: the VoxDB server. Recovers its data directory (snapshot + WAL),
// then serves the wire protocol (docs/protocol.md) until SIGTERM/SIGINT,
// when it stops accepting, answers what is in flight, syncs the log and
// exits 0.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "engine/ops/maintenance.h"
#include "net/server.h"
#include "net/streams.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"
#include "wal/checkpoint.h"
#include "wal/recovery.h"
#include "wal/wal_sink.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070", "address:port to listen on (port 0: any free)");
ABSL_FLAG(std::string, data, "voxdb-data", "the data directory (created if missing)");
ABSL_FLAG(std::string, durability, "fsync",
          "fsync (ack after fdatasync), write (ack after write, sync every 10 ms), none (no log)");
ABSL_FLAG(std::string, token_file, "",
          "file of 'role name verifier' lines (roles admin, app, readonly; lines from `voxctl "
          "token create`; older 'role token' lines still work), authenticated with "
          "SCRAM-SHA-256 (docs/security.md); empty: loopback clients only");
ABSL_FLAG(int, auth_max_failures, 5,
          "failed authentications from one address within --auth_lockout_s that lock it out");
ABSL_FLAG(int, auth_lockout_s, 60,
          "seconds an address is refused after --auth_max_failures failed authentications");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: every client connection is TLS (1.2 or later); needs --tls_key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(
    std::string, recovery, "strict",
    "strict: refuse to start on mid-log corruption; stop-at-last-good: keep what precedes it");
ABSL_FLAG(double, demo_scale, 0,
          "if the database is new, load the WORKLOAD.md data set at this scale factor first");
ABSL_FLAG(uint64_t, max_frame_bytes, 4u << 20, "largest request frame accepted");
ABSL_FLAG(int, max_connections, 1024, "connections accepted at once");
ABSL_FLAG(int, max_inflight, 128, "requests in flight per connection before it is not read");
ABSL_FLAG(int, idle_timeout_s, 300, "seconds a silent connection is kept");
ABSL_FLAG(int, handshake_timeout_s, 10, "seconds a new connection has to complete its handshake");
ABSL_FLAG(int, keep_snapshots, 3, "snapshots kept by checkpoints");
ABSL_FLAG(double, checkpoint_interval_s, 3600, "checkpoint at least this often (0: never by time)");
ABSL_FLAG(uint64_t, checkpoint_wal_bytes, 1ull << 30,
          "checkpoint once the WAL grew this much (0: never by size)");
ABSL_FLAG(std::string, metrics_listen, "",
          "address:port of the Prometheus endpoint (HTTP GET /metrics, docs/observability.md), "
          "e.g. 127.0.0.1:9100; port 0: any free; empty: off. Serves no authentication: keep it "
          "on loopback or a private network");
ABSL_FLAG(int, report_threads, 1,
          "threads computing reports (IdentityReport, ..., docs/reports.md) on snapshots, off the "
          "engine thread; writes go on while they run. At most 64 reports are queued or running "
          "at once; more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(bool, huge_pages, true,
          "back the heap with transparent huge pages where the kernel allows them");
ABSL_FLAG(int, spin_us, 50,
          "microseconds the engine and network threads look for more work before sleeping "
          "(0: sleep at once)");
ABSL_FLAG(uint64_t, stream_retention_mb, 64,
          "change streams: MiB of recent commits' events kept, so that a subscriber resumes "
          "from its last LSN without a gap (filled from the WAL at start); 0: streams off");
ABSL_FLAG(uint64_t, stream_buffer_kb, 4096,
          "change streams: KiB of events a subscription may have unsent; a subscriber that "
          "stays that far behind for a second is cut off with \"fell behind at LSN X\"");
ABSL_FLAG(uint64_t, stream_wal_hold_mb, 1024,
          "change streams: subscribers (and, for 5 minutes, those that disconnected) keep the "
          "WAL and a snapshot they would resume from, up to this many MiB of changes behind");
ABSL_FLAG(double, maintenance_interval_s, 10,
          "run time-based work (expired mutes, bans, recordings, reservations) this often");

namespace vox {
namespace {

void Log(const std::string& line) {
  std::fprintf(stderr, "voxdb: %s\n", line.c_str());
  std::fflush(stderr);
}

int Main() {
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    Log(StrCat("--listen=", listen, " is not address:port"));
    return 2;
  }
  ServerOptions options{.address = listen.substr(0, colon),
                        .port = static_cast<uint16_t>(std::atoi(listen.c_str() + colon + 1)),
                        .max_frame_bytes = absl::GetFlag(FLAGS_max_frame_bytes),
                        .max_connections = absl::GetFlag(FLAGS_max_connections),
                        .max_inflight_per_connection = absl::GetFlag(FLAGS_max_inflight),
                        .idle_timeout_seconds = absl::GetFlag(FLAGS_idle_timeout_s),
                        .handshake_timeout_seconds = absl::GetFlag(FLAGS_handshake_timeout_s),
                        .token_file = absl::GetFlag(FLAGS_token_file),
                        .metrics_listen = absl::GetFlag(FLAGS_metrics_listen),
                        .report_threads = absl::GetFlag(FLAGS_report_threads),
                        .spin_us = absl::GetFlag(FLAGS_spin_us)};
  options.auth_max_failures = absl::GetFlag(FLAGS_auth_max_failures);
  options.auth_lockout_seconds = absl::GetFlag(FLAGS_auth_lockout_s);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.log = [](const std::string& line) { Log(line); };
  if (options.spin_us < 0) {
    Log("--spin_us must be at least 0");
    return 2;
  }
  if (options.report_threads < 1) {
    Log("--report_threads must be at least 1");
    return 2;
  }
  auto durability = ParseDurability(absl::GetFlag(FLAGS_durability));
  if (!durability.ok()) {
    Log(std::string(ToStd(durability.status().message())));
    return 2;
  }
  const std::string recovery_flag = absl::GetFlag(FLAGS_recovery);
  if (recovery_flag != "strict" && recovery_flag != "stop-at-last-good") {
    Log("--recovery is strict or stop-at-last-good");
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_data);
  FileIo& io = PosixFileIo();

  ChangeStreams streams({.retention_bytes = absl::GetFlag(FLAGS_stream_retention_mb) << 20,
                         .buffer_bytes = absl::GetFlag(FLAGS_stream_buffer_kb) << 10,
                         .wal_hold_bytes = absl::GetFlag(FLAGS_stream_wal_hold_mb) << 20});
  if (streams.enabled() && streams.options().buffer_bytes < (64u << 10)) {
    Log("--stream_buffer_kb must be at least 64");
    return 2;
  }
  Database db;
  Log(StrCat("recovering ", dir, " ..."));
  auto report = Recover(
      io,
      {.data_dir = dir,
       .mode = recovery_flag == "strict" ? RecoveryMode::kStrict : RecoveryMode::kStopAtLastGood,
       .progress =
           [](std::string_view stage, uint64_t done, uint64_t total) {
             if (total > 0) {
               Log(StrCat("recovering: ", stage, " ", done >> 20, " of ", total >> 20, " MiB (",
                          done * 100 / total, "%)"));
             } else {
               Log(StrCat("recovering: ", stage, " ", done, " transactions replayed"));
             }
           },
       .on_events = !streams.enabled()
                        ? nullptr
                        : std::function([&streams](uint64_t lsn, Timestamp t,
                                                   std::vector<ChangeEvent> events) {
                            streams.Replayed(lsn, t, std::move(events));
                          })},
      db);
  if (!report.ok()) {
    Log(StrCat("cannot start: ", ToStd(report.status().message())));
    return 1;
  }
  Log(DescribeRecovery(*report));
  Checkpointer checkpointer(io, dir, report->database_id, absl::GetFlag(FLAGS_keep_snapshots));
  const double demo = absl::GetFlag(FLAGS_demo_scale);
  if (demo > 0 && report->last_lsn == 0 && report->snapshot.empty()) {
    Log(StrCat("loading the demo data set at SF=", demo, " ..."));
    // Bulk loaded (no WAL record): the snapshot below is what makes it durable.
    GenerateOptions load{.scale = demo};
    load.progress = [](std::string_view phase, uint64_t done, uint64_t total) {
      if (done == 0 || done == total) return;  // phase starts and ends: only the rest
      Log(StrCat("loading: ", phase, " ", done, " of ", total, " (", done * 100 / total, "%)"));
    };
    auto data = GenerateWorkload(db, load);
    if (!data.ok()) {
      Log(StrCat("demo data: ", ToStd(data.status().message())));
      return 1;
    }
    auto pause = checkpointer.Start(db, 0);
    auto snap = pause.ok() ? checkpointer.Wait() : absl::StatusOr<SnapshotInfo>(pause.status());
    if (!snap.ok()) {
      Log(StrCat("demo snapshot: ", ToStd(snap.status().message())));
      return 1;
    }
    Log(StrCat("demo data: ", data->total_rows, " rows loaded in ",
               static_cast<int64_t>(data->load_seconds * 10) / 10.0, " s, snapshot ", snap->path));
  }
  std::unique_ptr<UringLogDevice> device;
  std::unique_ptr<WalWriter> wal;
  std::unique_ptr<WalCommitSink> sink;
  if (*durability != Durability::kNone) {
    auto dev = UringLogDevice::Create();
    if (!dev.ok()) {
      Log(StrCat("io_uring: ", ToStd(dev.status().message())));
      return 1;
    }
    device = std::move(*dev);
    auto w = WalWriter::Open(
        io, *device,
        {.dir = WalDir(dir),
         .database_id = report->database_id,
         .durability = *durability,
         .schema_version = db.schema_version()},
        report->tail);
    if (!w.ok()) {
      Log(StrCat("WAL: ", ToStd(w.status().message())));
      return 1;
    }
    wal = std::move(*w);
    sink = std::make_unique<WalCommitSink>(*wal);
    db.set_commit_sink(sink.get());
  }
  streams.Attach(db, sink.get(), report->last_lsn);
  if (wal) {  // a subscriber may resume from before the history: from the files
    streams.set_wal_source({.io = &io,
                            .data_dir = dir,
                            .database_id = report->database_id,
                            .checkpointer = &checkpointer,
                            .acknowledged_lsn = [w = wal.get()] {
                              return w->WaitAcknowledged(UINT64_MAX, std::chrono::microseconds(0));
                            }});
  }
  // Engine-thread housekeeping: checkpoints on their schedule, time-based work.
  const CheckpointPolicy policy{.interval_seconds = absl::GetFlag(FLAGS_checkpoint_interval_s),
                                .wal_bytes = absl::GetFlag(FLAGS_checkpoint_wal_bytes),
                                .keep = absl::GetFlag(FLAGS_keep_snapshots)};
  const double maintenance_every = absl::GetFlag(FLAGS_maintenance_interval_s);
  auto last_checkpoint = std::chrono::steady_clock::now();
  auto last_maintenance = last_checkpoint;
  uint64_t wal_bytes_at_checkpoint = 0;
  bool checkpoint_running = false;
  auto periodic = [&] {
    const auto now = std::chrono::steady_clock::now();
    if (checkpoint_running && !checkpointer.running()) {
      checkpoint_running = false;
      auto info = checkpointer.Wait();
      Log(info.ok() ? StrCat("checkpoint: ", info->path, " at LSN ", info->lsn)
                    : StrCat("checkpoint failed: ", ToStd(info.status().message())));
    }
    const uint64_t wal_bytes = wal ? wal->stats().bytes : 0;
    // Not once the log has stopped (fail-stop): memory then holds writes the
    // log never made durable, and a snapshot would bring them back.
    if (!checkpoint_running && sink != nullptr && wal->status().ok() &&
        CheckpointDue(policy, std::chrono::duration<double>(now - last_checkpoint).count(),
                      wal_bytes - wal_bytes_at_checkpoint, report->database_id.lo)) {
      auto pause = checkpointer.Start(db, sink->last_lsn());
      if (pause.ok()) {
        checkpoint_running = true;
        last_checkpoint = now;
        wal_bytes_at_checkpoint = wal_bytes;
      }
    }
    if (maintenance_every > 0 &&
        std::chrono::duration<double>(now - last_maintenance).count() >= maintenance_every) {
      last_maintenance = now;
      const Timestamp t = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      auto done = RunMaintenance(db, {.now = t});
      if (!done.ok()) Log(StrCat("maintenance: ", ToStd(done.status().message())));
    }
  };
  auto server = Server::Start(options, {.db = &db,
                                        .wal = wal.get(),
                                        .sink = sink.get(),
                                        .checkpointer = &checkpointer,
                                        .database_id = report->database_id,
                                        .durability = *durability,
                                        .periodic = periodic,
                                        .data_dir = dir,
                                        .streams = &streams});
  if (!server.ok()) {
    Log(std::string(ToStd(server.status().message())));
    return 1;
  }
  // Tests and scripts read these lines for the ports (the metrics line first).
  if ((*server)->metrics_port() != 0) {
    const std::string& m = options.metrics_listen;
    const std::string host = m.substr(0, m.rfind(':'));
    std::printf("metrics on %s:%u\n", host.c_str(), (*server)->metrics_port());
    Log(StrCat("metrics on http://", host, ":", (*server)->metrics_port(), "/metrics"));
  }
  std::printf("listening on %s:%u\n", options.address.c_str(), (*server)->port());
  std::fflush(stdout);
  Log(StrCat("serving database ", FormatUuid(report->database_id), " on ", options.address, ":",
             (*server)->port(), ", durability ", DurabilityName(*durability),
             options.token_file.empty() ? ", loopback clients only" : ", tokens required",
             options.tls_cert_file.empty() ? "" : ", TLS"));
  (*server)->Wait(/*handle_signals=*/true);
  Log("stopping: in-flight requests answered");
  if (wal) {
    const absl::Status s = wal->Sync();
    Log(s.ok() ? "WAL synced; bye" : StrCat("WAL: ", ToStd(s.message())));
    if (!s.ok()) return 1;
  }
  server->reset();
  streams.Detach();
  db.set_commit_sink(nullptr);
  return 0;
}

// Asks glibc to back its heap with transparent huge pages, where the
// kernel allows them (transparent_hugepage "madvise" or "always"): the
// tables are gigabytes read at random rows, and a TLB miss per column
// value was a large part of a read (docs/benchmarks.md: +20-35% for R4
// and R7 at SF=1). glibc reads its tunables only when a process starts, so
// this sets GLIBC_TUNABLES and starts the same process again (execv keeps
// the pid); if the variable already names the tunable, it does nothing.
void UseHugePages(char** argv) {
  constexpr std::string_view kTunable = "glibc.malloc.hugetlb";
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string_view(tunables).find(kTunable) != std::string_view::npos) {
    return;
  }
  const std::string value = tunables != nullptr && *tunables != '\0'
                                ? StrCat(tunables, ":", kTunable, "=1")
                                : StrCat(kTunable, "=1");
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("GLIBC_TUNABLES");  // execv failed: go on as we are
}

}  // namespace
}  // namespace vox

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("voxdb [flags]: the VoxDB server (see --help)");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_huge_pages)) vox::UseHugePages(argv);
  return vox::Main();
}
