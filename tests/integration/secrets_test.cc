// Secrets stay secret (docs/security.md): a password hash, OAuth access and
// refresh tokens and token secrets are planted in a real server; then
// every read path (rows, searches, audit trails, reports, batches), the
// errors that involve them, voxctl's outputs (every format, the shell, the
// WAL dump) and the server's log are checked for the planted values, and
// the data files for owner-only modes. Positive controls show each check
// looked at real data: the values are in the WAL, the outputs hold the
// planted user.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/client.h"
#include "net/protocol.h"
#include "net/scram.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/integration/raw_connection.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

namespace fb = flatbuffers;

// The planted values.
constexpr char kHash[] = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$PLANTEDhashVALUE9f8e7d6c";
constexpr char kAccess[] = "ya29.PLANTED-ACCESS-TOKEN-5d41402abc4b2a76b9719d91";
constexpr char kRefresh[] = "1//PLANTED-REFRESH-TOKEN-7d793037a0760186574b0282";
constexpr char kOpsSecret[] = "PLANTED-TOKEN-SECRET-c4ca4238a0b9238";
constexpr char kLegacyToken[] = "PLANTED-LEGACY-TOKEN-1679091c5a880f";
const char* const kPlanted[] = {kHash, kAccess, kRefresh, kOpsSecret, kLegacyToken};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The planted values (or their distinctive middles) found in `text`.
std::vector<std::string> Leaks(const std::string& text) {
  std::vector<std::string> found;
  for (const char* p : kPlanted) {
    if (text.find(p) != std::string::npos) found.push_back(p);
  }
  for (const char* core : {"PLANTEDhashVALUE", "PLANTED-ACCESS-TOKEN", "PLANTED-REFRESH-TOKEN",
                           "PLANTED-TOKEN-SECRET", "PLANTED-LEGACY-TOKEN"}) {
    if (text.find(core) != std::string::npos) found.push_back(core);
  }
  return found;
}

int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// voxdb with its stdout and stderr in a log file.
class LoggedServer {
 public:
  LoggedServer(const std::string& data, const std::string& log, std::vector<std::string> extra) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<std::string> args = {VOXDB_BINARY, "--listen=127.0.0.1:0", "--data=" + data};
      for (auto& e : extra) args.push_back(e);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      const std::string text = ReadFile(log);
      const size_t at = text.find("listening on 127.0.0.1:");
      if (at != std::string::npos) port_ = static_cast<uint16_t>(std::atoi(text.c_str() + at + 23));
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~LoggedServer() { Stop(); }
  uint16_t port() const { return port_; }
  // SIGTERM: the server stops cleanly (and logs that it did).
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A raw connection that authenticated with SCRAM, for reading every byte
// the server answers.
class RawSession {
 public:
  RawSession(uint16_t port, const std::string& user, const std::string& secret) : raw_(port) {
    const std::string client_nonce = "secrets-test-client-nonce";
    fb::FlatBufferBuilder fbb(256);
    auto hello = wire::CreateHello(fbb, kProtocolVersion, 0, fbb.CreateString("secrets-test"),
                                   fbb.CreateString(user), fbb.CreateString(client_nonce));
    std::string answer = Exchange(fbb, wire::Op::Hello, hello.Union());
    auto challenge = Verified(answer);
    const auto* c = challenge ? challenge->result_as_ScramChallenge() : nullptr;
    if (c == nullptr) return;
    const std::string nonce = c->nonce()->str();
    const std::string salt(reinterpret_cast<const char*>(c->salt()->data()), c->salt()->size());
    const auto proof = scram::ClientProof(
        scram::SaltedPassword(secret, salt, static_cast<int>(c->iterations())),
        scram::AuthMessage(user, client_nonce, nonce, salt, static_cast<int>(c->iterations())));
    fb::FlatBufferBuilder p(256);
    auto op = wire::CreateScramProof(
        p, p.CreateString(nonce),
        p.CreateVector(reinterpret_cast<const uint8_t*>(proof.proof.data()), proof.proof.size()));
    answer = Exchange(p, wire::Op::ScramProof, op.Union());
    auto done = Verified(answer);
    ok_ = done && done->code() == wire::StatusCode::OK;
  }
  bool ok() const { return ok_; }

  // The raw answer to `op` (an rpc struct).
  template <typename Op>
  std::string Call(const Op& op) {
    fb::FlatBufferBuilder fbb(1024);
    const rpc::Encoded e = op.Encode(fbb);
    return Exchange(fbb, static_cast<wire::Op>(e.type), fb::Offset<void>(e.offset));
  }
  // The raw answer to a batch of rpc structs.
  template <typename... Ops>
  std::string CallBatch(const Ops&... ops) {
    fb::FlatBufferBuilder fbb(1024);
    std::vector<fb::Offset<wire::BatchOp>> list;
    (
        [&] {
          const rpc::Encoded e = ops.Encode(fbb);
          list.push_back(wire::CreateBatchOp(fbb, static_cast<wire::Op>(e.type),
                                             fb::Offset<void>(e.offset)));
        }(),
        ...);
    auto batch = wire::CreateBatch(fbb, fbb.CreateVector(list));
    return Exchange(fbb, wire::Op::Batch, batch.Union());
  }
  // The status code in a raw answer (-1 if it does not verify).
  static int Code(const std::string& answer) {
    auto r = Verified(answer);
    return r ? static_cast<int>(r->code()) : -1;
  }

 private:
  std::string Exchange(fb::FlatBufferBuilder& fbb, wire::Op type, fb::Offset<void> op) {
    wire::RequestBuilder rb(fbb);
    rb.add_id(++id_);
    rb.add_op_type(type);
    rb.add_op(op);
    fbb.FinishSizePrefixed(rb.Finish());
    if (!raw_.Send(FinishedFrame(fbb))) return "";
    return raw_.Receive();
  }
  // The response in `answer` (verified with its size prefix in front: its
  // alignment is relative to it), or null.
  static std::shared_ptr<const wire::Response> Verified(const std::string& answer) {
    if (answer.empty()) return nullptr;
    auto frame = std::make_shared<std::vector<uint8_t>>(4 + answer.size());
    const uint32_t n = static_cast<uint32_t>(answer.size());
    std::memcpy(frame->data(), &n, 4);
    std::memcpy(frame->data() + 4, answer.data(), answer.size());
    fb::Verifier v(frame->data(), frame->size());
    if (!v.VerifySizePrefixedBuffer<wire::Response>(nullptr)) return nullptr;
    return std::shared_ptr<const wire::Response>(
        frame, fb::GetSizePrefixedRoot<wire::Response>(frame->data()));
  }

  RawConnection raw_;
  uint64_t id_ = 0;
  bool ok_ = false;
};

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = dir_.path() + "/tokens";
    {
      std::ofstream out(tokens_);
      out << "admin ops " << scram::FormatVerifier(*scram::MakeVerifier(kOpsSecret)) << "\n"
          << "app " << kLegacyToken << "\n";
    }
    ::chmod(tokens_.c_str(), 0600);
    credential_ = dir_.path() + "/credential";
    {
      std::ofstream out(credential_);
      out << "ops:" << kOpsSecret << "\n";
    }
    ::chmod(credential_.c_str(), 0600);
    data_ = dir_.path() + "/db";
    log_ = dir_.path() + "/voxdb.log";
    server_ = std::make_unique<LoggedServer>(data_, log_,
                                             std::vector<std::string>{"--token_file=" + tokens_});
    ASSERT_NE(server_->port(), 0) << ReadFile(log_);
    auto c = Client::Connect({.port = server_->port(), .token = StrCat("ops:", kOpsSecret)});
    ASSERT_TRUE(c.ok()) << c.status();
    admin_ = *std::move(c);
    auto user = admin_->Call(rpc::RegisterUser{.username = "secretive",
                                               .email = "secretive@example.com",
                                               .password_hash = kHash,
                                               .display_name = "Sec Retive"});
    ASSERT_TRUE(user.ok()) << user.status();
    user_ = user->user_id;
    auto provider = admin_->Call(rpc::LinkAuthProvider{.user_id = user_,
                                                       .provider = "GOOGLE",
                                                       .provider_id = "google-sub-42",
                                                       .provider_email = "secretive@gmail.com",
                                                       .access_token = kAccess,
                                                       .refresh_token = kRefresh,
                                                       .metadata_json = "{}"});
    ASSERT_TRUE(provider.ok()) << provider.status();
    provider_ = *provider;
  }

  // voxctl with the admin credential; its stdout and stderr, and exit code.
  std::string Voxctl(const std::string& args, int* rc = nullptr, const std::string& input = "") {
    const std::string out = dir_.path() + "/voxctl.out";
    const int code =
        Shell(StrCat(input.empty() ? "" : StrCat("printf '", input, "' | "), VOXCTL_BINARY,
                     " --server=127.0.0.1:", server_->port(), " ", args, " > ", out, " 2>&1",
                     input.empty() ? " < /dev/null" : ""));
    if (rc != nullptr) *rc = code;
    return ReadFile(out);
  }

  testing::TempDir dir_;
  std::string tokens_, credential_, data_, log_;
  std::unique_ptr<LoggedServer> server_;
  std::unique_ptr<Client> admin_;
  Uuid user_, provider_;
};

TEST_F(SecretsTest, NoAnswerOnTheWireHoldsThem) {
  RawSession raw(server_->port(), "ops", kOpsSecret);
  ASSERT_TRUE(raw.ok());
  const Timestamp now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::vector<std::pair<std::string, std::string>> answers = {
      {"UserByEmail", raw.Call(rpc::UserByEmail{"secretive@example.com"})},
      {"UserByUsername", raw.Call(rpc::UserByUsername{"secretive"})},
      {"GetRow users", raw.Call(rpc::GetRow{"users", user_})},
      {"GetRow auth_providers", raw.Call(rpc::GetRow{"auth_providers", provider_})},
      {"SearchUsers", raw.Call(rpc::SearchUsers{.username_prefix = "secret"})},
      {"SearchAudit", raw.Call(rpc::SearchAudit{})},
      {"UserAuditTrail", raw.Call(rpc::UserAuditTrail{.user_id = user_})},
      {"IdentityReport", raw.Call(rpc::IdentityReport{.from = now - 7 * 86400000000LL,
                                                       .to = now + 86400000000LL,
                                                       .by = "provider"})},
      {"Batch", raw.CallBatch(rpc::UserByEmail{"secretive@example.com"},
                              rpc::GetRow{"auth_providers", provider_})},
      {"Stats", raw.Call(rpc::Stats{})},
  };
  for (const auto& [what, answer] : answers) {
    EXPECT_EQ(RawSession::Code(answer), 0) << what;
  }
  // Refusals that involve the secrets.
  const std::vector<std::pair<std::string, std::string>> errors = {
      {"RegisterUser duplicate",
       raw.Call(rpc::RegisterUser{"secretive", "other@example.com", kHash, "Dup"})},
      {"UpdateRow too long",
       raw.Call(rpc::UpdateRow{"users", user_,
                               {rpc::Field::Text("password_hash", StrCat(kHash, std::string(300, 'x')))}})},
      {"UpdateRow auth_providers too long",
       raw.Call(rpc::UpdateRow{"auth_providers", provider_,
                               {rpc::Field::Text("access_token",
                                                 StrCat(kAccess, std::string(5000, 'y')))}})},
      {"LinkAuthProvider for no one",
       raw.Call(rpc::LinkAuthProvider{.user_id = Uuid{1, 2},
                                      .provider = "GOOGLE",
                                      .provider_id = "x",
                                      .access_token = kAccess,
                                      .refresh_token = kRefresh})},
      {"LinkAuthProvider bad json",
       raw.Call(rpc::LinkAuthProvider{.user_id = user_,
                                      .provider = "GITHUB",
                                      .provider_id = "y",
                                      .access_token = kAccess,
                                      .refresh_token = kRefresh,
                                      .metadata_json = "{not json"})},
      {"Batch failing after a secret write",
       raw.CallBatch(rpc::RegisterUser{"another", "another@example.com", kHash, "A"},
                     rpc::GetRow{"users", Uuid{3, 4}})},
  };
  for (const auto& [what, answer] : errors) {
    EXPECT_GT(RawSession::Code(answer), 0) << what;  // refused
    answers.emplace_back(what, answer);
  }
  for (const auto& [what, answer] : answers) {
    EXPECT_TRUE(Leaks(answer).empty()) << what << " leaked " << Leaks(answer)[0];
  }
  // Positive controls: the rows were there to leak, and the values are stored.
  EXPECT_NE(answers[2].second.find("secretive@example.com"), std::string::npos);
  EXPECT_NE(answers[3].second.find("google-sub-42"), std::string::npos);
  std::string wal;
  for (const auto& f : std::filesystem::recursive_directory_iterator(data_)) {
    if (f.is_regular_file()) wal += ReadFile(f.path());
  }
  EXPECT_NE(wal.find(kHash), std::string::npos);
  EXPECT_NE(wal.find(kAccess), std::string::npos);
  EXPECT_NE(wal.find(kRefresh), std::string::npos);
}

TEST_F(SecretsTest, VoxctlAndTheServerLogShowNone) {
  const std::string token = "--token_file=" + credential_;
  const std::string uuid = FormatUuid(user_), provider = FormatUuid(provider_);
  std::vector<std::pair<std::string, std::string>> outputs;
  for (const std::string format : {"table", "json", "csv"}) {
    const std::string f = " --format=" + format;
    outputs.emplace_back("user " + format, Voxctl(token + f + " call user secretive@example.com"));
    outputs.emplace_back("row users " + format, Voxctl(token + f + " call row users " + uuid));
    outputs.emplace_back("row auth_providers " + format,
                         Voxctl(token + f + " call row auth_providers " + provider));
    outputs.emplace_back("SearchUsers " + format,
                         Voxctl(token + f + " call SearchUsers username_prefix=secretive"));
    outputs.emplace_back("SearchAudit " + format, Voxctl(token + f + " call SearchAudit"));
    outputs.emplace_back("IdentityReport " + format,
                         Voxctl(token + f +
                                " call IdentityReport from=2020-01-01T00:00:00Z to=now by=provider"));
  }
  int rc = 0;
  outputs.emplace_back("RegisterUser duplicate",
                       Voxctl(StrCat(token, " call RegisterUser username=secretive ",
                                     "email=dup@example.com 'password_hash=", kHash,
                                     "' display_name=Dup"),
                              &rc));
  EXPECT_EQ(rc, 1);
  outputs.emplace_back("LinkAuthProvider refused",
                       Voxctl(StrCat(token, " call LinkAuthProvider user_id=", uuid,
                                     " provider=GOOGLE provider_id=google-sub-42 access_token=",
                                     kAccess, " refresh_token=", kRefresh),
                              &rc));
  EXPECT_EQ(rc, 1);
  outputs.emplace_back("wrong secret", Voxctl(StrCat("--token=ops:", kOpsSecret, "x call stats"), &rc));
  EXPECT_EQ(rc, 1);
  outputs.emplace_back("legacy token", Voxctl(StrCat("--token=", kLegacyToken, " call stats"), &rc));
  EXPECT_EQ(rc, 0);
  outputs.emplace_back(
      "shell", Voxctl(token + " shell", &rc,
                      StrCat("user secretive@example.com\\n\\\\json\\nrow auth_providers ", provider,
                             "\\nRegisterUser username=secretive email=d2@example.com "
                             "password_hash=",
                             "x", "PLANTEDhashVALUE display_name=D\\n")));
  outputs.emplace_back("wal dump", Voxctl("wal dump --data=" + data_));
  outputs.emplace_back("wal dump json", Voxctl("wal dump --json --data=" + data_));
  // A generated credential is shown once, and only to whoever made it.
  const std::string made = Voxctl(StrCat("token create --role=app --name=made --credential_file=",
                                         dir_.path(), "/made.cred"),
                                   &rc);
  EXPECT_EQ(rc, 0) << made;
  struct stat st;
  ASSERT_EQ(::stat((dir_.path() + "/made.cred").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(made.find(ReadFile(dir_.path() + "/made.cred").substr(5, 20)), std::string::npos);

  for (const auto& [what, output] : outputs) {
    EXPECT_TRUE(Leaks(output).empty()) << what << " leaked " << Leaks(output)[0] << ":\n" << output;
  }
  // Positive controls: the outputs show the planted user and provider.
  EXPECT_NE(outputs[0].second.find("secretive"), std::string::npos) << outputs[0].second;
  EXPECT_NE(outputs[2].second.find("google-sub-42"), std::string::npos) << outputs[2].second;
  // Secret columns are left out of rows, not even named.
  EXPECT_NE(outputs[8].second.find("\"provider_email\":\"secretive@gmail.com\""),
            std::string::npos)
      << outputs[8].second;
  EXPECT_EQ(outputs[8].second.find("access_token"), std::string::npos) << outputs[8].second;
  EXPECT_EQ(outputs[7].second.find("password_hash"), std::string::npos) << outputs[7].second;

  // The server's log: the token file's warning names the line, never the token.
  server_->Stop();
  const std::string log = ReadFile(log_);
  EXPECT_TRUE(Leaks(log).empty()) << Leaks(log)[0] << ":\n" << log;
  EXPECT_NE(log.find("line 2: an unnamed 'role token' line"), std::string::npos) << log;
  EXPECT_NE(log.find("WAL synced"), std::string::npos) << log;  // the whole run is there
}

TEST_F(SecretsTest, DataFilesAreOwnerOnly) {
  ASSERT_TRUE(admin_->Call(rpc::Checkpoint{}).ok());
  int files = 0, dirs = 0;
  bool wal = false, snapshot = false;
  for (const auto& f : std::filesystem::recursive_directory_iterator(data_)) {
    struct stat st;
    ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << f.path() << " is open to group or others";
    if (f.is_directory()) ++dirs;
    if (f.is_regular_file()) ++files;
    wal |= f.path().extension() == ".wal";
    snapshot |= f.path().string().find("snap") != std::string::npos;
  }
  struct stat st;
  ASSERT_EQ(::stat(data_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(wal);
  EXPECT_TRUE(snapshot);
  EXPECT_GE(files, 3);
  EXPECT_GE(dirs, 2);

  // A token file others can read draws a warning (it holds verifiers, or
  // older plaintext tokens).
  server_->Stop();
  ::chmod(tokens_.c_str(), 0644);
  const std::string log2 = dir_.path() + "/second.log";
  LoggedServer again(data_, log2, {"--token_file=" + tokens_});
  ASSERT_NE(again.port(), 0);
  again.Stop();
  EXPECT_NE(ReadFile(log2).find("readable by group or others (mode 0644); chmod 600 it"),
            std::string::npos)
      << ReadFile(log2);
  EXPECT_EQ(ReadFile(log_).find("readable by group or others"), std::string::npos);
}

}  // namespace
}  // namespace vox
