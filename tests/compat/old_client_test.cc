// A client built against protocol v1 keeps working against the current
// server. This file knows the protocol only through the C++ that flatc
// generates at build time from voxdb_v1.fbs (wire_v1/voxdb_v1_generated.h):
// it links no VoxDB library and includes neither the current generated
// header nor net/. It starts the real voxdb on a loopback port, speaks the
// framed protocol over a plain socket (docs/protocol.md, "Frames") and
// checks the contents of every answer shape an old client meets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "voxdb_v1_generated.h"

#ifdef FLATBUFFERS_GENERATED_VOXDB_VOX_WIRE_H_
#error "old_client_test must see only the v1 protocol, not schema/voxdb_generated.h"
#endif

namespace vox {
namespace {

namespace fb = flatbuffers;

// What a v1 client puts in Hello.protocol_version.
constexpr uint32_t kV1ProtocolVersion = 1;
// More than any answer here (the server's own limit is 4 MiB).
constexpr uint32_t kMaxFrameBytes = 64 << 20;

// A voxdb child process on 127.0.0.1 (an ephemeral port) serving a fresh
// data directory; killed, and the directory removed, when it goes out of
// scope. port() is 0 if it did not start.
class V1TestServer {
 public:
  V1TestServer() {
    char tmpl[] = "/tmp/voxdb-compat-XXXXXX";
    data_ = ::mkdtemp(tmpl);
    std::vector<std::string> args = {VOXDB_BINARY, "--listen=127.0.0.1:0",
                                     "--data=" + data_ + "/db"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    // Kept open (and unread) after this: the server may still print.
    out_ = fdopen(out[0], "r");
    char line[256];
    unsigned port = 0;
    while (port == 0 && fgets(line, sizeof line, out_) != nullptr) {
      std::sscanf(line, "listening on 127.0.0.1:%u", &port);
    }
    port_ = static_cast<uint16_t>(port);
  }
  ~V1TestServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) fclose(out_);
    std::filesystem::remove_all(data_);
  }
  uint16_t port() const { return port_; }

 private:
  std::string data_;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  uint16_t port_ = 0;
};

// A Response frame as received: verified against the v1 schema and kept
// with the bytes it points into (behind its size prefix, so that fields
// sit as aligned as the server wrote them).
class Answer {
 public:
  explicit Answer(std::vector<uint8_t> frame) : frame_(std::move(frame)) {
    fb::Verifier verifier(frame_.data(), frame_.size());
    valid_ = frame_.size() > 4 && verifier.VerifySizePrefixedBuffer<wire::Response>(nullptr);
  }
  bool valid() const { return valid_; }
  // REQUIRES: valid().
  const wire::Response* operator->() const {
    return fb::GetSizePrefixedRoot<wire::Response>(frame_.data());
  }
  std::string message() const {
    return valid_ && (*this)->message() != nullptr ? (*this)->message()->str() : "";
  }

 private:
  std::vector<uint8_t> frame_;
  bool valid_ = false;
};

// One blocking connection, one request at a time, built only from the v1
// generated types.
class V1Connection {
 public:
  explicit V1Connection(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connected_ = true;
  }
  V1Connection(const V1Connection&) = delete;
  V1Connection& operator=(const V1Connection&) = delete;
  ~V1Connection() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }

  // Sends `op`, built in `fbb`, as the next request and waits for its
  // answer (invalid if the connection broke or the frame does not verify).
  template <typename Op>
  Answer Call(fb::FlatBufferBuilder& fbb, fb::Offset<Op> op) {
    const uint64_t id = ++last_id_;
    fbb.FinishSizePrefixed(
        wire::CreateRequest(fbb, id, wire::OpTraits<Op>::enum_value, op.Union()));
    Answer answer(Send(fbb.GetBufferPointer(), fbb.GetSize()) ? Receive() : std::vector<uint8_t>{});
    EXPECT_TRUE(answer.valid()) << "no valid answer to "
                                << wire::EnumNameOp(wire::OpTraits<Op>::enum_value);
    if (answer.valid()) {
      EXPECT_EQ(answer->id(), id);
    }
    return answer;
  }

 private:
  bool Send(const uint8_t* data, size_t size) {
    while (size > 0) {
      const ssize_t n = send(fd_, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  bool ReadFully(uint8_t* out, size_t size) {
    while (size > 0) {
      const ssize_t n = recv(fd_, out, size, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      out += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }
  // The next frame, its 4-byte little-endian size prefix included; empty
  // once the connection broke.
  std::vector<uint8_t> Receive() {
    std::vector<uint8_t> frame(4);
    if (!ReadFully(frame.data(), 4)) return {};
    const uint32_t size = fb::ReadScalar<uint32_t>(frame.data());
    if (size > kMaxFrameBytes) return {};
    frame.resize(4 + size);
    return ReadFully(frame.data() + 4, size) ? frame : std::vector<uint8_t>{};
  }

  int fd_ = -1;
  bool connected_ = false;
  uint64_t last_id_ = 0;
};

// Canonical 8-4-4-4-12 lowercase hex, as rows carry uuids in their JSON.
std::string UuidText(const wire::Uuid& u) {
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64, u.hi() >> 32,
                (u.hi() >> 16) & 0xffff, u.hi() & 0xffff, u.lo() >> 48,
                u.lo() & uint64_t{0xffffffffffff});
  return buf;
}

bool IsNil(const wire::Uuid& u) { return u.hi() == 0 && u.lo() == 0; }
bool IsNil(const wire::Uuid* u) { return u == nullptr || IsNil(*u); }

// RegisterUser's answer.
struct RegisteredUser {
  wire::Uuid user_id, auth_provider_id, wallet_id;
};

// `"key":"value"`, as a row's JSON holds a string column.
std::string JsonField(const std::string& key, const std::string& value) {
  return "\"" + key + "\":\"" + value + "\"";
}

// The answer's result as an `R`, expecting code OK and that result type (a
// test failure and nullptr otherwise).
template <typename R>
const R* OkResult(const Answer& answer) {
  if (!answer.valid()) return nullptr;
  EXPECT_EQ(answer->code(), wire::StatusCode::OK)
      << wire::EnumNameStatusCode(answer->code()) << ": " << answer.message();
  const R* result = answer->result_as<R>();
  EXPECT_NE(result, nullptr) << "the result is a " << wire::EnumNameResult(answer->result_type());
  return result;
}

class OldClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(server_.port(), 0) << "voxdb did not start";
    client_ = std::make_unique<V1Connection>(server_.port());
    ASSERT_TRUE(client_->connected());
    fb::FlatBufferBuilder fbb;
    hello_.emplace(client_->Call(
        fbb, wire::CreateHelloDirect(fbb, kV1ProtocolVersion, /*token=*/nullptr, "v1-client")));
    ASSERT_NE(OkResult<wire::HelloResult>(*hello_), nullptr);
  }

  // REQUIRES: the handshake succeeded (SetUp).
  const wire::HelloResult& hello() const { return *(*hello_)->result_as_HelloResult(); }

  // Registers `name` (email name@example.com); its ids (nil on a failure).
  RegisteredUser RegisterUser(const std::string& name) {
    fb::FlatBufferBuilder fbb;
    const Answer answer = client_->Call(
        fbb, wire::CreateRegisterUserDirect(fbb, name.c_str(), (name + "@example.com").c_str(),
                                            "$argon2id$v=19$hash", ("The " + name).c_str()));
    const auto* result = OkResult<wire::RegisterUserResult>(answer);
    if (result == nullptr) return {};
    return {*result->user_id(), *result->auth_provider_id(), *result->wallet_id()};
  }

  // The rows of a RowsResult answer (empty on a failure).
  std::vector<std::string> Rows(const Answer& answer) {
    std::vector<std::string> rows;
    const auto* result = OkResult<wire::RowsResult>(answer);
    if (result != nullptr && result->rows() != nullptr) {
      for (const fb::String* row : *result->rows()) rows.push_back(row->str());
    }
    return rows;
  }

  V1TestServer server_;
  std::unique_ptr<V1Connection> client_;
  std::optional<Answer> hello_;
};

TEST_F(OldClientTest, HandshakeNeedsNoTokenOnLoopback) {
  EXPECT_EQ(hello().protocol_version(), kV1ProtocolVersion);
  EXPECT_EQ(hello().server_version()->str().rfind("voxdb ", 0), 0u)
      << hello().server_version()->str();
  EXPECT_EQ(hello().role()->str(), "admin");
  EXPECT_FALSE(IsNil(hello().database_id()));
  EXPECT_EQ(hello().server_signature(), nullptr);  // no credentials were asked for
}

TEST_F(OldClientTest, RegistersAUserAndReadsItBackByEmailAndById) {
  const RegisteredUser maya = RegisterUser("maya");
  ASSERT_FALSE(IsNil(maya.user_id));
  EXPECT_FALSE(IsNil(maya.auth_provider_id));
  EXPECT_FALSE(IsNil(maya.wallet_id));

  fb::FlatBufferBuilder by_email;
  const std::vector<std::string> found =
      Rows(client_->Call(by_email, wire::CreateUserByEmailDirect(by_email, "maya@example.com")));
  ASSERT_EQ(found.size(), 1u);
  const std::string& row = found[0];
  EXPECT_NE(row.find(JsonField("id", UuidText(maya.user_id))), std::string::npos) << row;
  EXPECT_NE(row.find(JsonField("username", "maya")), std::string::npos) << row;
  EXPECT_NE(row.find(JsonField("display_name", "The maya")), std::string::npos) << row;
  EXPECT_NE(row.find(JsonField("account_status", "ACTIVE")), std::string::npos) << row;
  EXPECT_EQ(row.find("password_hash"), std::string::npos) << "a secret left the server: " << row;

  fb::FlatBufferBuilder by_id;
  EXPECT_EQ(Rows(client_->Call(by_id, wire::CreateGetRowDirect(by_id, "users", &maya.user_id))),
            found);
}

TEST_F(OldClientTest, RunsARoomsLiveState) {
  const RegisteredUser host = RegisterUser("hostess");
  const RegisteredUser guest = RegisterUser("guest");
  ASSERT_FALSE(IsNil(host.user_id));
  ASSERT_FALSE(IsNil(guest.user_id));

  fb::FlatBufferBuilder create;
  const std::vector<fb::Offset<fb::String>> tags = {create.CreateString("music")};
  const Answer created = client_->Call(
      create,
      wire::CreateCreateAndOpenRoomDirect(create, &host.user_id, "late-talk", "Late talk",
                                          /*max_participants=*/10, /*is_public=*/true, &tags));
  const auto* room = OkResult<wire::CreateRoomResult>(created);
  ASSERT_NE(room, nullptr);
  EXPECT_EQ(room->room_code()->str(), "late-talk");
  ASSERT_FALSE(IsNil(room->room_id()));
  const wire::Uuid room_id = *room->room_id();
  const wire::Uuid host_participant = *room->host_participant_id();

  fb::FlatBufferBuilder join;
  const Answer joined = client_->Call(join, wire::CreateJoinRoom(join, &room_id, &guest.user_id));
  const auto* participant = OkResult<wire::JoinRoomResult>(joined);
  ASSERT_NE(participant, nullptr);
  EXPECT_EQ(participant->role()->str(), "PARTICIPANT");
  EXPECT_FALSE(participant->muted());
  const wire::Uuid guest_participant = *participant->participant_id();

  fb::FlatBufferBuilder raise;
  EXPECT_NE(OkResult<wire::Empty>(
                client_->Call(raise, wire::CreateSetHandRaised(raise, &room_id, &guest.user_id,
                                                               &guest.user_id, /*raised=*/true))),
            nullptr);

  fb::FlatBufferBuilder present;
  const Answer listed = client_->Call(present, wire::CreatePresentParticipants(present, &room_id));
  const auto* participants = OkResult<wire::ParticipantsResult>(listed);
  ASSERT_NE(participants, nullptr);
  ASSERT_EQ(participants->participants()->size(), 2u);
  const wire::Participant* first = participants->participants()->Get(0);
  const wire::Participant* second = participants->participants()->Get(1);
  EXPECT_EQ(UuidText(*first->participant_id()), UuidText(host_participant));
  EXPECT_EQ(UuidText(*first->user_id()), UuidText(host.user_id));
  EXPECT_EQ(first->role()->str(), "HOST");
  EXPECT_FALSE(first->hand_raised());
  EXPECT_FALSE(first->hand_raised_at().has_value());
  EXPECT_EQ(UuidText(*second->participant_id()), UuidText(guest_participant));
  EXPECT_EQ(second->role()->str(), "PARTICIPANT");
  EXPECT_TRUE(second->hand_raised());
  ASSERT_TRUE(second->hand_raised_at().has_value());
  EXPECT_GE(*second->hand_raised_at(), second->joined_at());

  // The room as a generic row.
  fb::FlatBufferBuilder get;
  const std::vector<std::string> rows =
      Rows(client_->Call(get, wire::CreateGetRowDirect(get, "rooms", &room_id)));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0].find(JsonField("id", UuidText(room_id))), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find(JsonField("room_code", "late-talk")), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find(JsonField("status", "LIVE")), std::string::npos) << rows[0];
}

TEST_F(OldClientTest, TopsUpAndReadsTheWallet) {
  const RegisteredUser maya = RegisterUser("maya");
  ASSERT_FALSE(IsNil(maya.user_id));

  fb::FlatBufferBuilder top_up;
  const Answer topped =
      client_->Call(top_up, wire::CreateTopUpDirect(top_up, &maya.user_id, 100, "top-up-1"));
  const auto* transfer = OkResult<wire::TransferResult>(topped);
  ASSERT_NE(transfer, nullptr);
  EXPECT_FALSE(IsNil(transfer->transfer_id()));
  EXPECT_EQ(transfer->fee(), 0);
  EXPECT_FALSE(transfer->already_done());

  fb::FlatBufferBuilder read;
  const Answer balance_answer =
      client_->Call(read, wire::CreateGetWalletBalance(read, &maya.user_id));
  const auto* balance = OkResult<wire::WalletBalanceResult>(balance_answer);
  ASSERT_NE(balance, nullptr);
  EXPECT_EQ(UuidText(*balance->wallet_id()), UuidText(maya.wallet_id));
  EXPECT_EQ(balance->posted_credits(), 100);
  EXPECT_EQ(balance->balance(), 100);
  EXPECT_EQ(balance->available(), 100);
  EXPECT_FALSE(balance->is_frozen());
  EXPECT_TRUE(balance->ledger_consistent());
}

TEST_F(OldClientTest, RunsABatchAsOneTransaction) {
  const RegisteredUser maya = RegisterUser("maya");
  ASSERT_FALSE(IsNil(maya.user_id));

  // A top-up, then a read that sees it.
  fb::FlatBufferBuilder fbb;
  const std::vector<fb::Offset<wire::BatchOp>> ops = {
      wire::CreateBatchOp(fbb, wire::Op::TopUp,
                          wire::CreateTopUpDirect(fbb, &maya.user_id, 50, "batch-1").Union()),
      wire::CreateBatchOp(fbb, wire::Op::GetWalletBalance,
                          wire::CreateGetWalletBalance(fbb, &maya.user_id).Union()),
  };
  const Answer answer = client_->Call(fbb, wire::CreateBatchDirect(fbb, &ops));
  const auto* batch = OkResult<wire::BatchResult>(answer);
  ASSERT_NE(batch, nullptr);
  ASSERT_EQ(batch->results()->size(), 2u);

  const wire::Response* top_up = batch->results()->Get(0);
  EXPECT_EQ(top_up->id(), 0u);
  EXPECT_EQ(top_up->code(), wire::StatusCode::OK);
  ASSERT_NE(top_up->result_as_TransferResult(), nullptr);
  EXPECT_FALSE(IsNil(top_up->result_as_TransferResult()->transfer_id()));

  const wire::Response* read = batch->results()->Get(1);
  EXPECT_EQ(read->id(), 1u);
  EXPECT_EQ(read->code(), wire::StatusCode::OK);
  ASSERT_NE(read->result_as_WalletBalanceResult(), nullptr);
  EXPECT_EQ(read->result_as_WalletBalanceResult()->balance(), 50);
}

TEST_F(OldClientTest, ReadsStats) {
  RegisterUser("maya");
  RegisterUser("omar");

  fb::FlatBufferBuilder fbb;
  const Answer answer = client_->Call(fbb, wire::CreateStats(fbb));
  const auto* stats = OkResult<wire::StatsResult>(answer);
  ASSERT_NE(stats, nullptr);
  ASSERT_NE(stats->tables(), nullptr);
  const wire::TableStats* users = nullptr;
  for (const wire::TableStats* table : *stats->tables()) {
    if (table->name()->str() == "users") users = table;
  }
  ASSERT_NE(users, nullptr) << "no users table in Stats";
  EXPECT_EQ(users->rows(), 2u);
  EXPECT_GT(users->column_bytes(), 0u);
  EXPECT_GE(stats->commits(), 2u);
  EXPECT_GE(stats->requests(), 3u);  // Hello, two RegisterUser (and this one)
  EXPECT_GE(stats->connections(), 1u);
  EXPECT_FALSE(stats->durability()->str().empty());
}

TEST_F(OldClientTest, AnUnknownUserIsNotFound) {
  fb::FlatBufferBuilder by_email;
  const Answer missing =
      client_->Call(by_email, wire::CreateUserByEmailDirect(by_email, "nobody@example.com"));
  ASSERT_TRUE(missing.valid());
  EXPECT_EQ(missing->code(), wire::StatusCode::NOT_FOUND) << missing.message();
  EXPECT_EQ(missing.message(), "no user has that email");
  EXPECT_EQ(missing->result_type(), wire::Result::NONE);

  // The refusal leaves the connection usable.
  fb::FlatBufferBuilder stats;
  EXPECT_NE(OkResult<wire::StatsResult>(client_->Call(stats, wire::CreateStats(stats))), nullptr);
}

}  // namespace
}  // namespace vox
