// Authentication against the real server (docs/security.md): SCRAM-SHA-256
// with named tokens and the older unnamed ones, the refusals (wrong
// secret, unknown name, plaintext tokens, a replayed proof), the lockout of
// an address after repeated failures and its durable audit rows, and the
// client refusing a server that cannot prove it holds the verifier.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
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
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

namespace fb = flatbuffers;

constexpr char kOpsSecret[] = "ops-secret-0123456789abcdef";
constexpr char kWebSecret[] = "web-secret-0123456789abcdef";
constexpr char kReaderSecret[] = "reader-secret-0123456789ab";
constexpr char kLegacyToken[] = "legacy-app-token-0123456789";

// A token file line as `voxctl token create` writes it.
std::string Line(const std::string& role, const std::string& name, const std::string& secret) {
  return StrCat(role, " ", name, " ", scram::FormatVerifier(*scram::MakeVerifier(secret)), "\n");
}

std::string WriteTokens(const std::string& path) {
  std::ofstream out(path);
  out << "# the platform's tokens\n"
      << Line("admin", "ops", kOpsSecret) << Line("app", "web1", kWebSecret)
      << Line("readonly", "reader", kReaderSecret) << "\n"
      << "app " << kLegacyToken << "\n";
  out.close();
  ::chmod(path.c_str(), 0600);
  return path;
}

std::string Frame(fb::FlatBufferBuilder& fbb, uint64_t id, wire::Op type, fb::Offset<void> op) {
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(type);
  rb.add_op(op);
  fbb.FinishSizePrefixed(rb.Finish());
  return FinishedFrame(fbb);
}

std::string ScramHello(const std::string& user, const std::string& client_nonce, uint64_t id = 1) {
  fb::FlatBufferBuilder fbb(256);
  auto hello = wire::CreateHello(fbb, kProtocolVersion, 0, fbb.CreateString("auth-test"),
                                 fbb.CreateString(user), fbb.CreateString(client_nonce));
  return Frame(fbb, id, wire::Op::Hello, hello.Union());
}

std::string ProofFrame(const std::string& nonce, const std::string& proof, uint64_t id = 2) {
  fb::FlatBufferBuilder fbb(256);
  auto p = wire::CreateScramProof(
      fbb, fbb.CreateString(nonce),
      fbb.CreateVector(reinterpret_cast<const uint8_t*>(proof.data()), proof.size()));
  return Frame(fbb, id, wire::Op::ScramProof, p.Union());
}

// A response as RawConnection::Receive returns it (the body), verified
// with its size prefix in front: FlatBuffers checks alignment relative to
// the buffer's start, which is the prefix.
class Answer {
 public:
  explicit Answer(const std::string& body) : frame_(4 + body.size()) {
    const uint32_t n = static_cast<uint32_t>(body.size());
    std::memcpy(frame_.data(), &n, 4);
    std::memcpy(frame_.data() + 4, body.data(), body.size());
    fb::Verifier verifier(frame_.data(), frame_.size());
    valid_ = !body.empty() && verifier.VerifySizePrefixedBuffer<wire::Response>(nullptr);
  }
  bool valid() const { return valid_; }
  const wire::Response* operator->() const {
    return fb::GetSizePrefixedRoot<wire::Response>(frame_.data());
  }
  std::string message() const {
    const auto* m = (*this)->message();
    return m ? m->str() : "";
  }

 private:
  std::vector<uint8_t> frame_;
  bool valid_ = false;
};

struct Challenge {
  std::string nonce, salt;
  int iterations = 0;
};

std::optional<Challenge> ReadChallenge(RawConnection& raw) {
  Answer r(raw.Receive());
  if (!r.valid() || r->code() != wire::StatusCode::OK) return std::nullopt;
  const auto* c = r->result_as_ScramChallenge();
  if (c == nullptr || c->nonce() == nullptr || c->salt() == nullptr) return std::nullopt;
  return Challenge{c->nonce()->str(),
                   std::string(reinterpret_cast<const char*>(c->salt()->data()), c->salt()->size()),
                   static_cast<int>(c->iterations())};
}

// The client's final message for `secret` (and what the server must sign).
scram::ClientFinal Prove(const std::string& user, const std::string& secret,
                         const std::string& client_nonce, const Challenge& c) {
  return scram::ClientProof(
      scram::SaltedPassword(secret, c.salt, c.iterations),
      scram::AuthMessage(user, client_nonce, c.nonce, c.salt, c.iterations));
}

absl::StatusCode Code(const absl::StatusOr<std::unique_ptr<Client>>& c) {
  return c.status().code();
}

class AuthTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(AuthTest, NamedAndLegacyTokensAuthenticateAndRolesHold) {
  const std::string tokens = WriteTokens(dir_.path() + "/tokens");
  // A line made by the tool itself, for a secret given on stdin.
  const std::string made = dir_.path() + "/made";
  ASSERT_EQ(std::system(StrCat("echo tool-secret-0123456789abc | " VOXCTL_BINARY
                               " token create --role=readonly --name=tool >> ",
                               tokens, " 2> ", made)
                            .c_str()),
            0);
  ServerProcess server(dir_.path() + "/db", {"--token_file=" + tokens});
  ASSERT_NE(server.port(), 0);
  const uint16_t port = server.port();

  auto ops = Client::Connect({.port = port, .token = StrCat("ops:", kOpsSecret)});
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ((*ops)->role(), "admin");
  // The same credential as separate fields.
  auto web = Client::Connect({.port = port, .user = "web1", .secret = kWebSecret});
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_EQ((*web)->role(), "app");
  auto reader = Client::Connect({.port = port, .token = StrCat("reader:", kReaderSecret)});
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->role(), "readonly");
  // An older unnamed token: the whole string is the secret.
  auto legacy = Client::Connect({.port = port, .token = kLegacyToken});
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_EQ((*legacy)->role(), "app");
  auto tool = Client::Connect({.port = port, .token = "tool:tool-secret-0123456789abc"});
  ASSERT_TRUE(tool.ok()) << tool.status();
  EXPECT_EQ((*tool)->role(), "readonly");

  ASSERT_TRUE((*web)->Call(rpc::RegisterUser{"byweb", "byweb@example.com", "h", "W"}).ok());
  ASSERT_TRUE((*legacy)->Call(rpc::RegisterUser{"byold", "byold@example.com", "h", "O"}).ok());
  EXPECT_EQ((*reader)->Call(rpc::RegisterUser{"no", "no@example.com", "h", "N"}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*reader)->Call(rpc::UserByEmail{"byweb@example.com"}).ok());
  EXPECT_EQ((*web)->Call(rpc::Checkpoint{}).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*ops)->Call(rpc::Checkpoint{}).ok());

  // The first ADMIN of a new platform: a grant with no acting user is the
  // operator's, for an admin token only; it is audited as the operator's.
  auto first = (*web)->Call(rpc::UserByUsername{"byweb"});
  ASSERT_TRUE(first.ok()) << first.status();
  const size_t at = first->find("\"id\":\"");
  ASSERT_NE(at, std::string::npos) << *first;
  const Uuid founder = ParseUuid(first->substr(at + 6, 36)).value_or(Uuid{});
  ASSERT_FALSE(founder.IsNil()) << *first;
  EXPECT_EQ((*web)->Call(rpc::SetUserRole{.user_id = founder, .role = "ADMIN"}).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE((*ops)->Call(rpc::SetUserRole{.user_id = founder, .role = "ADMIN"}).ok());
  auto audit = (*ops)->Call(rpc::SearchAudit{.action = {"ROLE_CHANGED"}, .target_user_id = founder});
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->rows.size(), 1u);
  EXPECT_NE(audit->rows[0].find("operator"), std::string::npos) << audit->rows[0];
  // The new admin now acts as one: makes a moderator.
  auto other = (*web)->Call(rpc::UserByUsername{"byold"});
  ASSERT_TRUE(other.ok());
  const Uuid byold = ParseUuid(other->substr(other->find("\"id\":\"") + 6, 36)).value_or(Uuid{});
  EXPECT_TRUE(
      (*web)->Call(rpc::SetUserRole{.actor_id = founder, .user_id = byold, .role = "MODERATOR"}).ok());

  // The tool printed nothing secret when the secret came on stdin.
  std::ifstream in(made);
  const std::string printed((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(printed.find("tool-secret"), std::string::npos) << printed;
}

TEST_F(AuthTest, WrongSecretsUnknownNamesAndPlaintextTokensAreRefused) {
  const std::string tokens = WriteTokens(dir_.path() + "/tokens");
  ServerProcess server(dir_.path() + "/db", {"--token_file=" + tokens, "--auth_max_failures=100"});
  ASSERT_NE(server.port(), 0);
  const uint16_t port = server.port();

  auto wrong = Client::Connect({.port = port, .token = "web1:not-the-secret-0123456789"});
  EXPECT_EQ(Code(wrong), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(wrong.status().message()).find("authentication failed for 'web1'"),
            std::string::npos)
      << wrong.status();
  auto unknown = Client::Connect({.port = port, .token = StrCat("mallory:", kWebSecret)});
  EXPECT_EQ(Code(unknown), absl::StatusCode::kUnauthenticated);
  // The same refusal for an unknown name as for a wrong secret.
  EXPECT_EQ(std::string(unknown.status().message()),
            std::string(wrong.status().message()).replace(
                std::string(wrong.status().message()).find("web1"), 4, "mallory"));
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = "wrong-unnamed-token-0123456789"})),
            absl::StatusCode::kUnauthenticated);
  // A name's secret does not work as an unnamed token, nor under another name.
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = kWebSecret})),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = StrCat("ops:", kWebSecret)})),
            absl::StatusCode::kUnauthenticated);
  // No credentials at all.
  auto none = Client::Connect({.port = port});
  EXPECT_EQ(Code(none), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(std::string(none.status().message()).find("requires a token"), std::string::npos);

  {  // An old client's plaintext token, valid as it is: refused unchecked.
    RawConnection raw(port);
    ASSERT_TRUE(raw.Send(HelloFrame(kProtocolVersion, kLegacyToken)));
    Answer r(raw.Receive());
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(r.message().find("SCRAM-SHA-256 only"), std::string::npos) << r.message();
    EXPECT_TRUE(raw.Closed());
  }
  {  // A challenge for an unknown name looks like a real one, and stays the same.
    RawConnection a(port), b(port), c(port);
    ASSERT_TRUE(a.Send(ScramHello("mallory", "clientnonce-aaaaaaaaaaaa")));
    ASSERT_TRUE(b.Send(ScramHello("mallory", "clientnonce-bbbbbbbbbbbb")));
    ASSERT_TRUE(c.Send(ScramHello("web1", "clientnonce-cccccccccccc")));
    auto ca = ReadChallenge(a), cb = ReadChallenge(b), cc = ReadChallenge(c);
    ASSERT_TRUE(ca && cb && cc);
    EXPECT_EQ(ca->salt, cb->salt);
    EXPECT_EQ(ca->salt.size(), cc->salt.size());
    EXPECT_NE(ca->salt, cc->salt);
    EXPECT_EQ(ca->iterations, cc->iterations);
    EXPECT_TRUE(ca->nonce.starts_with("clientnonce-aaaaaaaaaaaa"));
    EXPECT_NE(ca->nonce.substr(24), cb->nonce.substr(24));  // fresh server halves
  }
  {  // A malformed nonce.
    RawConnection raw(port);
    ASSERT_TRUE(raw.Send(ScramHello("web1", "short")));
    Answer r(raw.Receive());
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(raw.Closed());
  }
  {  // A proof without a Hello first.
    RawConnection raw(port);
    ASSERT_TRUE(raw.Send(ProofFrame("clientnonce-dddddddddddd-server", std::string(32, 'x'), 1)));
    Answer r(raw.Receive());
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(r.message().find("first request must be Hello"), std::string::npos);
  }
  // The good credentials still work.
  EXPECT_TRUE(Client::Connect({.port = port, .token = StrCat("web1:", kWebSecret)}).ok());
}

TEST_F(AuthTest, AReplayedProofIsRefused) {
  const std::string tokens = WriteTokens(dir_.path() + "/tokens");
  ServerProcess server(dir_.path() + "/db", {"--token_file=" + tokens, "--auth_max_failures=100"});
  ASSERT_NE(server.port(), 0);
  const std::string client_nonce = "replayed-client-nonce-0123";
  // A genuine exchange, as an eavesdropper would record it.
  Challenge first;
  scram::ClientFinal recorded;
  {
    RawConnection raw(server.port());
    ASSERT_TRUE(raw.Send(ScramHello("web1", client_nonce)));
    auto c = ReadChallenge(raw);
    ASSERT_TRUE(c);
    first = *c;
    recorded = Prove("web1", kWebSecret, client_nonce, first);
    ASSERT_TRUE(raw.Send(ProofFrame(first.nonce, recorded.proof)));
    Answer r(raw.Receive());
    ASSERT_TRUE(r.valid());
    ASSERT_EQ(r->code(), wire::StatusCode::OK) << r.message();
    const auto* hello = r->result_as_HelloResult();
    ASSERT_NE(hello, nullptr);
    ASSERT_NE(hello->server_signature(), nullptr);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(hello->server_signature()->data()),
                          hello->server_signature()->size()),
              recorded.server_signature);
    EXPECT_EQ(hello->role()->str(), "app");
    ASSERT_TRUE(raw.Send(StatsFrame(3)));  // and the connection is served
    Answer stats(raw.Receive());
    ASSERT_TRUE(stats.valid());
    EXPECT_EQ(stats->code(), wire::StatusCode::OK);
  }
  // Replayed on a new connection: the server's half of the nonce is new, so
  // neither the old nonce nor the old proof with the new nonce passes.
  for (bool old_nonce : {true, false}) {
    RawConnection raw(server.port());
    ASSERT_TRUE(raw.Send(ScramHello("web1", client_nonce)));
    auto c = ReadChallenge(raw);
    ASSERT_TRUE(c);
    EXPECT_NE(c->nonce, first.nonce);
    ASSERT_TRUE(raw.Send(ProofFrame(old_nonce ? first.nonce : c->nonce, recorded.proof)));
    Answer r(raw.Receive());
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::UNAUTHENTICATED) << old_nonce;
    EXPECT_TRUE(raw.Closed());
  }
  // A fresh proof for the fresh nonce works.
  RawConnection raw(server.port());
  ASSERT_TRUE(raw.Send(ScramHello("web1", client_nonce)));
  auto c = ReadChallenge(raw);
  ASSERT_TRUE(c);
  ASSERT_TRUE(raw.Send(ProofFrame(c->nonce, Prove("web1", kWebSecret, client_nonce, *c).proof)));
  Answer r(raw.Receive());
  ASSERT_TRUE(r.valid());
  EXPECT_EQ(r->code(), wire::StatusCode::OK) << r.message();
}

// The audit rows of failed authentications, oldest first.
std::vector<std::string> AttemptRows(Client& admin) {
  auto page = admin.Call(rpc::SearchAudit{.action = {"UNAUTHORIZED_ACCESS_ATTEMPT"},
                                          .sort = "oldest_first"});
  EXPECT_TRUE(page.ok()) << page.status();
  return page.ok() ? page->rows : std::vector<std::string>{};
}

TEST_F(AuthTest, FailuresAreAuditedDurablyAndLockTheAddressOut) {
  const std::string tokens = WriteTokens(dir_.path() + "/tokens");
  const std::vector<std::string> flags = {"--token_file=" + tokens, "--auth_max_failures=3",
                                          "--auth_lockout_s=3"};
  auto server = std::make_unique<ServerProcess>(dir_.path() + "/db", flags);
  ASSERT_NE(server->port(), 0);
  uint16_t port = server->port();
  const std::string good = StrCat("web1:", kWebSecret);

  // Three failures: a wrong secret, an unknown name, a raw proof we know.
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = "web1:guessed-secret-0123456789"})),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = "mallory:guessed-secret-0123456"})),
            absl::StatusCode::kUnauthenticated);
  std::string raw_proof;
  {
    RawConnection raw(port);
    const std::string nonce = "lockout-client-nonce-0123";
    ASSERT_TRUE(raw.Send(ScramHello("ops", nonce)));
    auto c = ReadChallenge(raw);
    ASSERT_TRUE(c);
    raw_proof = Prove("ops", "not-the-ops-secret-01234567", nonce, *c).proof;
    ASSERT_TRUE(raw.Send(ProofFrame(c->nonce, raw_proof)));
    Answer r(raw.Receive());
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::UNAUTHENTICATED);
  }
  // Now the address is locked out, even with the right secret.
  auto locked = Client::Connect({.port = port, .token = good});
  EXPECT_EQ(Code(locked), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(locked.status().message()).find("too many failed authentications"),
            std::string::npos)
      << locked.status();
  EXPECT_NE(std::string(locked.status().message()).find("try again in"), std::string::npos);
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = StrCat("ops:", kOpsSecret)})),
            absl::StatusCode::kResourceExhausted);

  // Each failure was written before its refusal was sent, so a crash right
  // now loses none of them.
  EXPECT_TRUE(WIFSIGNALED(server->Kill(SIGKILL)));
  server = std::make_unique<ServerProcess>(dir_.path() + "/db", flags);
  ASSERT_NE(server->port(), 0);
  port = server->port();
  auto admin = Client::Connect({.port = port, .token = StrCat("ops:", kOpsSecret)});
  ASSERT_TRUE(admin.ok()) << admin.status();  // a new process: the lockout was in memory
  const std::vector<std::string> rows = AttemptRows(**admin);
  ASSERT_EQ(rows.size(), 3u);  // refusals during the lockout are not attempts
  const char* users[] = {"web1", "mallory", "ops"};
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rows[i]);
    EXPECT_NE(rows[i].find("\"ip_address\":\"127.0.0.1\""), std::string::npos);
    EXPECT_NE(rows[i].find(StrCat("\"metadata\":{\"user\":\"", users[i], "\"")), std::string::npos);
    EXPECT_NE(rows[i].find("\"user_id\":null"), std::string::npos);
    EXPECT_EQ(rows[i].find("guessed-secret"), std::string::npos);
    EXPECT_EQ(rows[i].find("not-the-ops-secret"), std::string::npos);
    EXPECT_EQ(rows[i].find(scram::Base64Encode(raw_proof)), std::string::npos);
  }
  EXPECT_NE(rows[0].find("voxdb-cpp-client"), std::string::npos);  // the client's name
  EXPECT_NE(rows[2].find("auth-test"), std::string::npos);

  // A lockout ends: fail 3 times again, wait it out, then the secret works.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Code(Client::Connect({.port = port, .token = "web1:guessed-again-0123456789"})),
              absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(Code(Client::Connect({.port = port, .token = good})),
            absl::StatusCode::kResourceExhausted);
  std::this_thread::sleep_for(std::chrono::milliseconds(3300));
  auto after = Client::Connect({.port = port, .token = good});
  EXPECT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(AttemptRows(**admin).size(), 6u);
}

// ---- A server that cannot prove itself ----

// One connection served by `serve` on a loopback port, in a thread.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(int fd)> serve) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_, 4), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, serve = std::move(serve)] {
      const int fd = ::accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      serve(fd);
      ::close(fd);
    });
  }
  ~FakeServer() {
    ::shutdown(listen_, SHUT_RDWR);
    thread_.join();
    ::close(listen_);
  }
  uint16_t port() const { return port_; }

  // The next request's bytes (size prefix included), or "" at the end.
  static std::string ReadRequest(int fd) {
    uint32_t len = 0;
    if (::recv(fd, &len, 4, MSG_WAITALL) != 4) return "";
    std::string frame(reinterpret_cast<const char*>(&len), 4);
    frame.resize(4 + len);
    if (::recv(fd, frame.data() + 4, len, MSG_WAITALL) != static_cast<ssize_t>(len)) return "";
    return frame;
  }
  static const wire::Request* Request(const std::string& frame) {
    return fb::GetSizePrefixedRoot<wire::Request>(frame.data());
  }
  static void Answer(int fd, fb::FlatBufferBuilder& fbb, uint64_t id, wire::Result type,
                     fb::Offset<void> result) {
    wire::ResponseBuilder rb(fbb);
    rb.add_id(id);
    rb.add_code(wire::StatusCode::OK);
    rb.add_result_type(type);
    rb.add_result(result);
    fbb.FinishSizePrefixed(rb.Finish());
    ::send(fd, fbb.GetBufferPointer(), fbb.GetSize(), MSG_NOSIGNAL);
  }
  static void AnswerHello(int fd, uint64_t id, const std::string& signature) {
    fb::FlatBufferBuilder fbb(256);
    auto sig = signature.empty()
                   ? 0
                   : fbb.CreateVector(reinterpret_cast<const uint8_t*>(signature.data()),
                                      signature.size());
    auto r = wire::CreateHelloResult(fbb, kProtocolVersion, fbb.CreateString("fake"),
                                     fbb.CreateString("admin"), nullptr, sig);
    Answer(fd, fbb, id, wire::Result::HelloResult, r.Union());
  }
  static void AnswerChallenge(int fd, uint64_t id, const std::string& nonce, int iterations) {
    fb::FlatBufferBuilder fbb(256);
    const std::string salt = "0123456789abcdef";
    auto r = wire::CreateScramChallenge(
        fbb, fbb.CreateString(nonce),
        fbb.CreateVector(reinterpret_cast<const uint8_t*>(salt.data()), salt.size()),
        static_cast<uint32_t>(iterations));
    Answer(fd, fbb, id, wire::Result::ScramChallenge, r.Union());
  }

 private:
  int listen_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(AuthClientTest, TheClientRefusesAServerThatCannotProveItself) {
  const ClientOptions options{.token = StrCat("web1:", kWebSecret),
                              .timeout = std::chrono::milliseconds(3000)};
  {  // A server that waves the client through without a challenge.
    FakeServer fake([](int fd) {
      const std::string hello = FakeServer::ReadRequest(fd);
      if (!hello.empty()) FakeServer::AnswerHello(fd, FakeServer::Request(hello)->id(), "");
      FakeServer::ReadRequest(fd);  // until the client hangs up
    });
    ClientOptions o = options;
    o.port = fake.port();
    auto c = Client::Connect(o);
    EXPECT_EQ(Code(c), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(std::string(c.status().message()).find("did not prove"), std::string::npos)
        << c.status();
  }
  {  // A server that challenges but does not hold the verifier: its
     // signature cannot match.
    std::string user_seen;
    FakeServer fake([&user_seen](int fd) {
      const std::string hello = FakeServer::ReadRequest(fd);
      if (hello.empty()) return;
      const wire::Hello* h = FakeServer::Request(hello)->op_as_Hello();
      user_seen = h->user()->str();
      FakeServer::AnswerChallenge(fd, FakeServer::Request(hello)->id(),
                                  h->client_nonce()->str() + "fake-server-nonce", 4096);
      const std::string proof = FakeServer::ReadRequest(fd);
      if (proof.empty()) return;
      FakeServer::AnswerHello(fd, FakeServer::Request(proof)->id(), std::string(32, '\x42'));
      FakeServer::ReadRequest(fd);
    });
    ClientOptions o = options;
    o.port = fake.port();
    auto c = Client::Connect(o);
    EXPECT_EQ(Code(c), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(std::string(c.status().message()).find("signature does not match"),
              std::string::npos)
        << c.status();
    EXPECT_EQ(user_seen, "web1");
  }
  // Challenges the client will not answer: too few iterations (cheap to
  // attack offline), or a nonce that is not an extension of its own.
  for (int bad_case = 0; bad_case < 2; ++bad_case) {
    bool proof_sent = false;
    {
      FakeServer fake([&](int fd) {
        const std::string hello = FakeServer::ReadRequest(fd);
        if (hello.empty()) return;
        const wire::Hello* h = FakeServer::Request(hello)->op_as_Hello();
        FakeServer::AnswerChallenge(fd, FakeServer::Request(hello)->id(),
                                    bad_case == 0 ? h->client_nonce()->str() + "fake-server-nonce"
                                                  : "someone-elses-nonce-0123",
                                    bad_case == 0 ? 100 : 4096);
        proof_sent = !FakeServer::ReadRequest(fd).empty();
      });
      ClientOptions o = options;
      o.port = fake.port();
      auto c = Client::Connect(o);
      EXPECT_EQ(Code(c), absl::StatusCode::kUnauthenticated) << bad_case;
      EXPECT_NE(std::string(c.status().message()).find("malformed"), std::string::npos);
    }
    EXPECT_FALSE(proof_sent) << bad_case;
  }
}

TEST(AuthClientTest, CredentialOptionsAreChecked) {
  EXPECT_EQ(Client::Connect({.port = 1, .token = "a:b", .user = "a", .secret = "b"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Client::Connect({.port = 1, .token = "bad name:secret-0123456789"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Client::Connect({.port = 1, .user = "web1"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The secret is never in the message.
  auto s = Client::Connect({.port = 1, .token = "bad name:secret-0123456789"}).status();
  EXPECT_EQ(std::string(s.message()).find("secret-0123456789"), std::string::npos);
}

}  // namespace
}  // namespace vox
