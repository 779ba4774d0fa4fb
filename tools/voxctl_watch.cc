#include "tools/voxctl_watch.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <utility>

#include "net/subscription.h"
#include "schema/str.h"
#include "schema/types.h"

namespace vox::voxctl {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
void RequestStop(int) { stop_requested = 1; }

std::string Message(const absl::Status& s) { return std::string(s.message()); }

int Usage(const std::string& message) {
  std::fprintf(stderr, "voxctl: %s\n", message.c_str());
  return kExitUsage;
}

// "a.b" padded with blanks to `width` (at least one blank follows).
std::string Pad(std::string s, size_t width) {
  s.append(s.size() < width ? width - s.size() : 1, ' ');
  return s;
}

}  // namespace

absl::StatusOr<rpc::Subscribe> ParseWatchArgs(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    return absl::InvalidArgumentError(
        "usage: voxctl watch room ID | user ID | table NAME|'*' [--from_lsn=N] "
        "[--count=N] [--idle_exit=S]");
  }
  const std::string& kind = args[0];
  const std::string& target = args[1];
  if (kind == "table") {
    if (target.empty()) return absl::InvalidArgumentError("watch table: name a table, or '*'");
    return rpc::Subscribe{.table = target};
  }
  if (kind != "room" && kind != "user") {
    return absl::InvalidArgumentError(
        StrCat("watch what? '", kind, "' is not room, user or table"));
  }
  absl::StatusOr<Uuid> id = ParseUuid(target);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        StrCat("watch ", kind, ": '", target, "' is not a uuid (8-4-4-4-12 hex digits)"));
  }
  rpc::Subscribe what;
  (kind == "room" ? what.room_id : what.user_id) = *id;
  return what;
}

std::string FormatEvent(const rpc::StreamEvent& e, Format format) {
  if (format == Format::kJson) {
    return StrCat("{\"lsn\":", e.lsn,
                  ",\"commit_time\":", JsonQuote(FormatTimestamp(e.commit_time)),
                  ",\"table\":", JsonQuote(e.table), ",\"id\":", JsonQuote(FormatUuid(e.id)),
                  ",\"deleted\":", e.deleted ? "true" : "false",
                  ",\"action\":", e.action.empty() ? std::string("null") : JsonQuote(e.action),
                  ",\"row\":", e.row.empty() ? std::string("null") : e.row, "}\n");
  }
  std::string line = Pad(StrCat(e.lsn), 8);
  line += Pad(FormatTimestamp(e.commit_time), 29);
  line += Pad(e.table, 20);
  line += Pad(e.deleted ? "delete" : "put", 7);
  line += Pad(FormatUuid(e.id), 38);
  line += Pad(e.action.empty() ? "-" : e.action, 24);
  line += e.row.empty() ? "-" : e.row;
  line += '\n';
  return line;
}

int RunWatch(const std::vector<std::string>& args, const RemoteOptions& remote,
             const WatchOptions& options) {
  absl::StatusOr<rpc::Subscribe> what = ParseWatchArgs(args);
  if (!what.ok()) return Usage(Message(what.status()));
  if (remote.format == Format::kCsv) return Usage("watch prints --format=table or json");
  if (!remote.chart.path.empty()) return Usage("--chart is for reports, not watch");
  if (options.count < 0) return Usage("--count must be 0 (no limit) or more");
  if (options.idle_exit.count() < 0) return Usage("--idle_exit must be 0 (never) or more");
  absl::StatusOr<ClientOptions> client_options = ToClientOptions(remote);
  if (!client_options.ok()) return Usage(Message(client_options.status()));
  what->from_lsn = options.from_lsn;

  auto failed = [](const absl::Status& s) {
    std::fprintf(stderr, "voxctl: %s: %s\n", absl::StatusCodeToString(s.code()).c_str(),
                 Message(s).c_str());
    return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ? kExitNoConnection : kExitRefused;
  };
  absl::StatusOr<std::unique_ptr<Subscription>> sub =
      Subscription::Open(*client_options, *std::move(what));
  if (!sub.ok()) return failed(sub.status());
  std::fprintf(stderr, "voxctl: watching %s %s after LSN %llu (Ctrl-C stops)\n", args[0].c_str(),
               args[1].c_str(), static_cast<unsigned long long>((*sub)->last_lsn()));
  if (remote.format == Format::kTable) {
    std::fputs(StrCat(Pad("lsn", 8), Pad("commit_time", 29), Pad("table", 20), Pad("change", 7),
                      Pad("id", 38), Pad("action", 24), "row\n")
                   .c_str(),
               stdout);
    std::fflush(stdout);
  }

  stop_requested = 0;
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  int64_t printed = 0;
  int resumes = 0;
  Clock::time_point last_event = Clock::now();
  int rc = kExitOk;
  while (stop_requested == 0) {
    if (options.count > 0 && printed >= options.count) break;
    if (options.idle_exit.count() > 0 && Clock::now() - last_event >= options.idle_exit) break;
    absl::StatusOr<rpc::StreamEvent> e = (*sub)->Next(std::chrono::milliseconds(100));
    if ((*sub)->resumes() != resumes) {
      resumes = (*sub)->resumes();
      std::fprintf(stderr, "voxctl: resubscribed after LSN %llu\n",
                   static_cast<unsigned long long>((*sub)->last_lsn()));
    }
    if (absl::IsDeadlineExceeded(e.status())) continue;
    if (!e.ok()) {
      rc = failed(e.status());
      break;
    }
    std::fputs(FormatEvent(*e, remote.format).c_str(), stdout);
    if (std::fflush(stdout) != 0) break;  // stdout closed
    ++printed;
    last_event = Clock::now();
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (rc == kExitOk) {
    if (absl::Status s = (*sub)->Close(); !s.ok()) rc = failed(s);
  }
  return rc;
}

}  // namespace vox::voxctl
