// acked_writer: drives a real voxdb with a write-heavy mix from several
// client threads (one connection each) and logs every write with what its
// answer was, in the format of tests/crash/acked_log.h: registrations,
// top-ups, gifts (alone, pipelined in bursts, and with a top-up in one
// atomic Batch), rooms created and opened, joins, leaves, kicks by the host,
// rooms ended, and with --payload system events padded to fill the log.
//
// A thread stops at its first write without a definite answer (the
// connection died: the server was killed) or once the server says the
// write-ahead log stopped (disk full); the program exits when every thread
// has stopped or --seconds passed.
//
//   acked_writer --port=P --round=N --out=FILE [--threads=8] [--seconds=60]
//                [--payload=0] [--seed=1]
//
// --round makes names unique across runs against the same data; --payload
// pads each registration and top-up with that many bytes (bio, memo) so
// that the log grows faster. Exit: 0 done, 2 bad flags, 3 cannot connect.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/client.h"
#include "schema/str.h"

namespace vox {
namespace {

struct Flags {
  int port = 0, round = 0, threads = 8;
  double seconds = 60;
  size_t payload = 0;
  uint64_t seed = 1;
  std::string out;
};

// What all threads share: the log, the users (gift receivers), the tallies.
struct Shared {
  std::mutex mu;
  FILE* out = nullptr;
  std::vector<std::pair<std::string, Uuid>> users;
  uint64_t acked = 0, unknown = 0, refused = 0;
  std::chrono::steady_clock::time_point deadline;
};

// The log stopped taking writes (fail-stop; docs/durability.md).
bool LogStopped(const absl::Status& s) {
  return s.message().find("write-ahead log stopped") != absl::string_view::npos;
}

// 'A'cknowledged, 'U'nknown (no definite answer from the server), 'R'efused.
char Classify(const absl::Status& s) {
  if (s.ok()) return 'A';
  if (LogStopped(s)) return 'U';
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:       // the connection died
    case absl::StatusCode::kDeadlineExceeded:  // no answer in time
    case absl::StatusCode::kUnknown:           // closed without an answer
    case absl::StatusCode::kDataLoss:          // a broken answer
      return 'U';
    default:
      return 'R';
  }
}

struct Room {
  std::string code;
  Uuid id;
  size_t owner;                    // index in users_
  std::map<size_t, Uuid> present;  // user index -> participant id
};

class Worker {
 public:
  Worker(Shared& shared, const Flags& flags, int thread)
      : shared_(shared),
        flags_(flags),
        thread_(thread),
        rng_(flags.seed * 1000003 + static_cast<uint64_t>(flags.round) * 7919 + thread),
        pad_(flags.payload, 'x') {}

  void Run() {
    auto client = Client::Connect(
        {.port = static_cast<uint16_t>(flags_.port), .timeout = std::chrono::milliseconds(20000)});
    if (!client.ok()) {
      std::fprintf(stderr, "acked_writer: thread %d: %s\n", thread_,
                   std::string(client.status().message()).c_str());
      return;
    }
    client_ = std::move(*client);
    if (thread_ == 0 && flags_.round == 0) {
      // A 5% gift fee (at least 1), so that gifts have fee transfers.
      (void)client_->Call(rpc::SetFee{.transfer_type = "GIFT", .fee_bps = 500, .min_fee = 1});
    }
    while (!stopped_ && std::chrono::steady_clock::now() < shared_.deadline) Step();
  }

 private:
  void Step() {
    if (users_.size() < 4) return Register();
    switch (Pick({8, 15, 22, 6, 18, 9, 3, 3, 6, 10, pad_.empty() ? 0.0 : 30.0})) {
      case 0:
        return Register();
      case 1:
        return TopUp();
      case 2:
        return Gift();
      case 3:
        return CreateRoom();
      case 4:
        return Join();
      case 5:
        return Leave();
      case 6:
        return Kick();
      case 7:
        return End();
      case 8:
        return TopUpAndGift();
      case 9:
        return Burst();
      default:
        return Event();
    }
  }

  // ---- The writes ----

  void Register() {
    const std::string name = StrCat("u", flags_.round, "t", thread_, "n", seq_++);
    auto r = client_->Call(rpc::RegisterUser{.username = name,
                                             .email = name + "@example.com",
                                             .password_hash = "$argon2id$v=19$crash",
                                             .display_name = name,
                                             .bio = pad_.substr(0, 1000)});
    const char o = Log(r.status(), StrCat("user ", name),
                       r.ok() ? StrCat(FormatUuid(r->user_id), " ", FormatUuid(r->wallet_id)) : "");
    if (o != 'A') return;
    users_.push_back({name, r->user_id});
    std::lock_guard<std::mutex> lock(shared_.mu);
    shared_.users.push_back({name, r->user_id});
  }

  rpc::TopUp TopUpOp(size_t user, std::string* line) {
    const std::string key = NextKey();
    const int64_t amount = Amount(10, 1000);
    *line = StrCat("topup ", key, " ", users_[user].first, " ", amount);
    return rpc::TopUp{.user_id = users_[user].second,
                      .amount = amount,
                      .idempotency_key = key,
                      .memo = pad_.substr(0, 500)};
  }
  // A gift from one of ours to anyone (another thread's user too).
  rpc::Gift GiftOp(size_t from, std::string* line) {
    std::pair<std::string, Uuid> to;
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      do {
        to = shared_.users[Index(shared_.users.size())];
      } while (to.second == users_[from].second);
    }
    const std::string key = NextKey();
    const int64_t amount = Amount(2, 300);
    *line = StrCat("gift ", key, " ", users_[from].first, " ", to.first, " ", amount);
    return rpc::Gift{.sender_id = users_[from].second,
                     .receiver_id = to.second,
                     .amount = amount,
                     .idempotency_key = key};
  }
  static std::string TransferIds(const rpc::Transfer& t) {
    return StrCat(FormatUuid(t.transfer_id), " ", t.fee, " ",
                  t.fee_transfer_id ? FormatUuid(*t.fee_transfer_id) : std::string("-"));
  }

  void TopUp() {
    std::string line;
    auto r = client_->Call(TopUpOp(Index(users_.size()), &line));
    Log(r.status(), line, r.ok() ? FormatUuid(r->transfer_id) : "");
  }

  void Gift() {
    std::string line;
    auto r = client_->Call(GiftOp(Index(users_.size()), &line));
    Log(r.status(), line, r.ok() ? TransferIds(*r) : "");
  }

  // A top-up and a gift from the same user in one atomic Batch.
  void TopUpAndGift() {
    std::string topup_line, gift_line;
    const size_t user = Index(users_.size());
    rpc::TopUp topup = TopUpOp(user, &topup_line);
    rpc::Gift gift = GiftOp(user, &gift_line);
    Batch batch;
    auto t = batch.Add(topup);
    auto g = batch.Add(gift);
    const absl::Status s = client_->Run(batch);
    Log(s, topup_line, s.ok() ? FormatUuid(t.Get()->transfer_id) : "");
    Log(s, gift_line, s.ok() ? TransferIds(*g.Get()) : "");
    Log(s, StrCat("batch ", topup.idempotency_key, " ", gift.idempotency_key), "",
        /*count=*/false);
  }

  // Eight independent top-ups and gifts in flight at once.
  void Burst() {
    std::vector<std::string> lines(8);
    std::vector<Future<rpc::Transfer>> futures;
    for (size_t i = 0; i < lines.size(); ++i) {
      futures.push_back(i % 2 == 0 ? client_->Send(TopUpOp(Index(users_.size()), &lines[i]))
                                   : client_->Send(GiftOp(Index(users_.size()), &lines[i])));
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      auto r = futures[i].Get();
      Log(r.status(), lines[i],
          !r.ok()      ? ""
          : i % 2 == 0 ? FormatUuid(r->transfer_id)
                       : TransferIds(*r));
    }
  }

  // A system event carrying up to 8 KB of --payload (fills the log fast).
  void Event() {
    const std::string code = StrCat("e", flags_.round, "t", thread_, "n", seq_++);
    auto r = client_->Call(
        rpc::RecordSystemEvent{.component = "crash",
                               .code = code,
                               .message = "padding",
                               .details = StrCat(R"({"pad":")", pad_.substr(0, 8000), R"("})")});
    Log(r.status(), StrCat("event ", code), r.ok() ? FormatUuid(*r) : "");
  }

  void CreateRoom() {
    if (rooms_.size() >= 6) return End();
    const size_t owner = Index(users_.size());
    const std::string code = StrCat("r", flags_.round, "t", thread_, "n", seq_++);
    auto r = client_->Call(rpc::CreateAndOpenRoom{
        .owner_id = users_[owner].second, .title = "crash", .room_code = code});
    const char o =
        Log(r.status(), StrCat("room ", code, " ", users_[owner].first),
            r.ok() ? StrCat(FormatUuid(r->room_id), " ", FormatUuid(r->host_participant_id)) : "");
    if (o == 'A') rooms_.push_back({code, r->room_id, owner, {{owner, r->host_participant_id}}});
  }

  void Join() {
    if (rooms_.empty()) return CreateRoom();
    Room& room = rooms_[Index(rooms_.size())];
    const size_t user = Index(users_.size());
    if (room.present.count(user)) return;
    auto r = client_->Call(rpc::JoinRoom{.room_id = room.id, .user_id = users_[user].second});
    const char o = Log(r.status(), StrCat("join ", room.code, " ", users_[user].first),
                       r.ok() ? FormatUuid(r->participant_id) : "");
    if (o == 'A') room.present[user] = r->participant_id;
  }

  // A present participant other than the owner, or none.
  std::pair<Room*, size_t> Guest() {
    if (rooms_.empty()) return {nullptr, 0};
    Room& room = rooms_[Index(rooms_.size())];
    std::vector<size_t> guests;
    for (const auto& [u, p] : room.present) {
      if (u != room.owner) guests.push_back(u);
    }
    if (guests.empty()) return {nullptr, 0};
    return {&room, guests[Index(guests.size())]};
  }

  void Leave() {
    auto [room, user] = Guest();
    if (room == nullptr) return Join();
    const absl::Status s =
        client_->Call(rpc::LeaveRoom{.room_id = room->id, .user_id = users_[user].second});
    const char o = Log(
        s,
        StrCat("leave ", room->code, " ", users_[user].first, " ", FormatUuid(room->present[user])),
        "");
    if (o == 'A') room->present.erase(user);
  }

  void Kick() {
    auto [room, user] = Guest();
    if (room == nullptr) return Join();
    const absl::Status s =
        client_->Call(rpc::KickParticipant{.room_id = room->id,
                                           .actor_id = users_[room->owner].second,
                                           .target_id = users_[user].second,
                                           .reason = "crash test"});
    const char o = Log(s,
                       StrCat("kick ", room->code, " ", users_[room->owner].first, " ",
                              users_[user].first, " ", FormatUuid(room->present[user])),
                       "");
    if (o == 'A') room->present.erase(user);
  }

  void End() {
    if (rooms_.empty()) return CreateRoom();
    const size_t i = Index(rooms_.size());
    Room& room = rooms_[i];
    const absl::Status s =
        client_->Call(rpc::EndRoom{.room_id = room.id, .actor_id = users_[room.owner].second});
    const char o = Log(s, StrCat("end ", room.code, " ", users_[room.owner].first), "");
    if (o == 'A') rooms_.erase(rooms_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  // ---- Logging and chance ----

  // Logs one write's outcome (`ids`: what an acknowledgement carried) and
  // returns it; a write without a definite answer stops this thread.
  char Log(const absl::Status& s, const std::string& what, const std::string& ids,
           bool count = true) {
    const char o = Classify(s);
    std::string line = StrCat(std::string(1, o), " ", what);
    if (o == 'A' && !ids.empty()) line += " " + ids;
    if (o == 'R') line += StrCat(" ", absl::StatusCodeToString(s.code()));
    line += "\n";
    std::lock_guard<std::mutex> lock(shared_.mu);
    std::fputs(line.c_str(), shared_.out);
    if (LogStopped(s) && !saw_stop_) {
      saw_stop_ = true;
      std::string message(s.message());
      for (char& c : message) c = c == '\n' ? ' ' : c;
      std::fprintf(shared_.out, "E %s %s\n", absl::StatusCodeToString(s.code()).c_str(),
                   message.c_str());
    }
    if (count) {
      (o == 'A' ? shared_.acked : o == 'U' ? shared_.unknown : shared_.refused) += 1;
    }
    if (o == 'U') stopped_ = true;
    return o;
  }

  std::string NextKey() { return StrCat("k", flags_.round, "t", thread_, "n", seq_++); }
  // One of `n` (> 0).
  size_t Index(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  int64_t Amount(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  size_t Pick(std::initializer_list<double> weights) {
    std::discrete_distribution<size_t> d(weights);
    return d(rng_);
  }

  Shared& shared_;
  const Flags& flags_;
  const int thread_;
  std::mt19937_64 rng_;
  const std::string pad_;
  std::unique_ptr<Client> client_;
  std::vector<std::pair<std::string, Uuid>> users_;
  std::vector<Room> rooms_;
  uint64_t seq_ = 0;
  bool stopped_ = false, saw_stop_ = false;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) return false;
    const std::string name = a.substr(2, eq - 2), value = a.substr(eq + 1);
    if (name == "port")
      f->port = std::atoi(value.c_str());
    else if (name == "round")
      f->round = std::atoi(value.c_str());
    else if (name == "threads")
      f->threads = std::atoi(value.c_str());
    else if (name == "seconds")
      f->seconds = std::atof(value.c_str());
    else if (name == "payload")
      f->payload = std::strtoull(value.c_str(), nullptr, 10);
    else if (name == "seed")
      f->seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (name == "out")
      f->out = value;
    else
      return false;
  }
  return f->port > 0 && f->threads > 0 && !f->out.empty();
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: acked_writer --port=P --round=N --out=FILE [--threads=8] "
                 "[--seconds=60] [--payload=0] [--seed=1]\n");
    return 2;
  }
  Shared shared;
  shared.out = std::fopen(flags.out.c_str(), "a");
  if (shared.out == nullptr) {
    std::perror(flags.out.c_str());
    return 2;
  }
  // Connecting first tells "no server" apart from "the server died".
  if (!Client::Connect({.port = static_cast<uint16_t>(flags.port)}).ok()) return 3;
  shared.deadline = std::chrono::steady_clock::now() +
                    std::chrono::microseconds(static_cast<int64_t>(flags.seconds * 1e6));
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (int t = 0; t < flags.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(shared, flags, t));
  }
  for (auto& w : workers) threads.emplace_back([&w] { w->Run(); });
  for (std::thread& t : threads) t.join();
  std::fclose(shared.out);
  std::printf("acked %llu unknown %llu refused %llu\n",
              static_cast<unsigned long long>(shared.acked),
              static_cast<unsigned long long>(shared.unknown),
              static_cast<unsigned long long>(shared.refused));
  return 0;
}

}  // namespace
}  // namespace vox

int main(int argc, char** argv) { return vox::Main(argc, argv); }
