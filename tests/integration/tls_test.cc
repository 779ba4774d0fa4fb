// TLS against the real server (docs/security.md): certificates made at
// test time with the openssl CLI (a CA, a server certificate it signed for
// localhost and 127.0.0.1, and an unrelated CA); a TLS client works, with
// SCRAM inside; a plain client is refused with a clear message; a client
// refuses a server it cannot verify; a server with a bad certificate or key
// does not start.
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/client.h"
#include "net/scram.h"
#include "schema/str.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

constexpr char kWebSecret[] = "web-secret-0123456789abcdef";

// Runs a shell command; its exit code.
int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class TlsTest : public ::testing::Test {
 protected:
  // Once for the suite: the certificates (EC keys: quick to make).
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const std::string d = dir_->path();
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string q = " > " + d + "/openssl.log 2>&1";
    ASSERT_EQ(Shell(StrCat("cd ", d, " && openssl req -x509 ", key,
                         " -keyout ca.key -out ca.pem -days 2 -subj /CN=VoxDB-test-CA", q)),
              0)
        << ReadFile(d + "/openssl.log");
    ASSERT_EQ(Shell(StrCat("cd ", d, " && openssl req ", key,
                         " -keyout server.key -out server.csr -subj /CN=localhost", q)),
              0);
    std::ofstream(d + "/ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    ASSERT_EQ(Shell(StrCat("cd ", d,
                         " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
                         "-CAcreateserial -out server.pem -days 2 -extfile ext",
                         q)),
              0)
        << ReadFile(d + "/openssl.log");
    ASSERT_EQ(Shell(StrCat("cd ", d, " && openssl req -x509 ", key,
                         " -keyout other.key -out other-ca.pem -days 2 -subj /CN=Other-CA", q)),
              0);
    std::ofstream(d + "/tokens") << "app web1 "
                                 << scram::FormatVerifier(*scram::MakeVerifier(kWebSecret))
                                 << "\n";
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string File(const std::string& name) { return dir_->path() + "/" + name; }
  std::unique_ptr<ServerProcess> TlsServer(std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {"--tls_cert=" + File("server.pem"),
                                      "--tls_key=" + File("server.key"),
                                      "--token_file=" + File("tokens")};
    for (auto& f : more) flags.push_back(f);
    return std::make_unique<ServerProcess>(data_.path() + "/db", flags);
  }
  ClientOptions Tls(uint16_t port) const {
    return {.port = port,
            .token = StrCat("web1:", kWebSecret),
            .timeout = std::chrono::milliseconds(5000),
            .tls = true,
            .tls_ca_file = File("ca.pem")};
  }

  static testing::TempDir* dir_;
  testing::TempDir data_;
};
testing::TempDir* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, ATlsClientWorksWithScramInside) {
  auto server = TlsServer();
  ASSERT_NE(server->port(), 0);
  auto c = Client::Connect(Tls(server->port()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->role(), "app");

  // Enough rows that one answer spans many TLS records (16 KiB each).
  Batch batch;
  for (int i = 0; i < 300; ++i) {
    batch.Add(rpc::RegisterUser{StrCat("tls_user_", i), StrCat("tls", i, "@example.com"), "h",
                                StrCat("TLS user number ", i, " with a long display name")});
  }
  ASSERT_TRUE((*c)->Run(batch).ok());
  auto page = (*c)->Call(rpc::SearchUsers{.username_prefix = "tls_user_", .limit = 1000});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->rows.size(), 300u);

  // Several threads share the connection: pipelined reads and writes.
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Future<std::string>> pending;
      for (int i = 0; i < 100; ++i) {
        pending.push_back((*c)->Send(rpc::UserByUsername{StrCat("tls_user_", (t * 100 + i) % 300)}));
      }
      for (auto& f : pending) ok += f.Get().ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);

  // A wrong secret is refused over TLS as over TCP.
  ClientOptions wrong = Tls(server->port());
  wrong.token = "web1:not-the-secret-0123456789";
  EXPECT_EQ(Client::Connect(wrong).status().code(), absl::StatusCode::kUnauthenticated);

  // voxctl speaks TLS too.
  const std::string out = data_.path() + "/voxctl.out";
  const std::string voxctl = StrCat(VOXCTL_BINARY, " --server=127.0.0.1:", server->port(),
                                    " --token=web1:", kWebSecret);
  EXPECT_EQ(Shell(StrCat(voxctl, " --tls_ca=", File("ca.pem"), " call user tls5@example.com > ",
                       out, " 2>&1")),
            0)
      << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("tls_user_5"), std::string::npos) << ReadFile(out);
  EXPECT_EQ(Shell(StrCat(voxctl, " call stats > ", out, " 2>&1")), 1);  // no --tls
  EXPECT_NE(ReadFile(out).find("accepts only TLS"), std::string::npos) << ReadFile(out);
  EXPECT_EQ(Shell(StrCat(voxctl, " --tls_ca=", File("other-ca.pem"), " call stats > ", out, " 2>&1")),
            3);  // cannot connect (securely)
  EXPECT_NE(ReadFile(out).find("does not verify"), std::string::npos) << ReadFile(out);
}

TEST_F(TlsTest, AClientReconnectsAndAuthenticatesAgain) {
  auto server = TlsServer();
  const uint16_t port = server->port();
  ASSERT_NE(port, 0);
  auto c = Client::Connect(Tls(port));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Call(rpc::RegisterUser{"before", "before@example.com", "h", "B"}).ok());
  server->Kill(SIGKILL);
  server = TlsServer({StrCat("--listen=127.0.0.1:", port)});
  ASSERT_EQ(server->port(), port);
  // The first call finds the connection gone; the next one reconnects:
  // TLS, then SCRAM again.
  auto lost = (*c)->Call(rpc::UserByUsername{"before"});
  if (!lost.ok()) {
    EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  }
  auto again = (*c)->Call(rpc::UserByUsername{"before"});
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(TlsTest, APlainClientIsRefusedCleanly) {
  auto server = TlsServer();
  ASSERT_NE(server->port(), 0);
  ClientOptions plain = Tls(server->port());
  plain.tls = false;
  auto c = Client::Connect(plain);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  EXPECT_NE(std::string(c.status().message()).find("accepts only TLS"), std::string::npos)
      << c.status();
  // On the wire: one plain error frame, then the server closes.
  RawConnection raw(server->port());
  ASSERT_TRUE(raw.Send(HelloFrame(kProtocolVersion, "")));
  EXPECT_NE(raw.Receive().find("accepts only TLS"), std::string::npos);
  EXPECT_TRUE(raw.Closed());
  // And the server goes on serving TLS clients.
  EXPECT_TRUE(Client::Connect(Tls(server->port())).ok());
}

TEST_F(TlsTest, AClientRefusesAServerItCannotVerify) {
  auto server = TlsServer();
  ASSERT_NE(server->port(), 0);
  auto refused = [&](ClientOptions o, const std::string& why) {
    auto c = Client::Connect(o);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << why << ": " << c.status();
    EXPECT_NE(std::string(c.status().message()).find("does not verify"), std::string::npos)
        << why << ": " << c.status();
  };
  ClientOptions o = Tls(server->port());
  o.tls_ca_file = File("other-ca.pem");
  refused(o, "another CA");
  o.tls_ca_file = "";
  refused(o, "the system's CAs");
  o = Tls(server->port());
  o.tls_server_name = "db.example.com";
  refused(o, "a name the certificate does not hold");
  // The certificate's DNS name works as well as its IP address.
  o = Tls(server->port());
  o.host = "localhost";
  auto by_name = Client::Connect(o);
  EXPECT_TRUE(by_name.ok()) << by_name.status();
  // A CA file that cannot be read is a usage error, not a connection.
  o.tls_ca_file = File("missing.pem");
  EXPECT_EQ(Client::Connect(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsTest, OnlyTls12AndLaterAreSpoken) {
  auto server = TlsServer();
  ASSERT_NE(server->port(), 0);
  const std::string out = data_.path() + "/s_client.out";
  auto s_client = [&](const std::string& flags) {
    return Shell(StrCat("openssl s_client -connect 127.0.0.1:", server->port(), " ", flags,
                        " < /dev/null > ", out, " 2>&1"));
  };
  // The client offers only TLS 1.1 (and allows it at security level 0):
  // the server refuses with a protocol-version alert.
  EXPECT_NE(s_client("-tls1_1 -cipher DEFAULT@SECLEVEL=0"), 0);
  EXPECT_NE(ReadFile(out).find("alert protocol version"), std::string::npos) << ReadFile(out);
  EXPECT_EQ(s_client("-tls1_2 -CAfile " + File("ca.pem")), 0) << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("Protocol  : TLSv1.2"), std::string::npos) << ReadFile(out);
  EXPECT_EQ(s_client("-tls1_3 -CAfile " + File("ca.pem")), 0) << ReadFile(out);
}

TEST_F(TlsTest, ATlsClientToAPlainServerFailsCleanly) {
  ServerProcess plain(data_.path() + "/plain", {"--token_file=" + File("tokens")});
  ASSERT_NE(plain.port(), 0);
  auto c = Client::Connect(Tls(plain.port()));
  EXPECT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("TLS handshake"), std::string::npos)
      << c.status();
  ClientOptions o = Tls(plain.port());
  o.tls = false;
  EXPECT_TRUE(Client::Connect(o).ok());
}

TEST_F(TlsTest, TheConnectionLimitHoldsUnderTls) {
  auto server = TlsServer({"--max_connections=1"});
  ASSERT_NE(server->port(), 0);
  {
    auto first = Client::Connect(Tls(server->port()));
    ASSERT_TRUE(first.ok()) << first.status();
    // Refused before TLS: the client sees the connection closed, and
    // neither process dies (no SIGPIPE in the client).
    auto second = Client::Connect(Tls(server->port()));
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
    EXPECT_TRUE((*first)->Call(rpc::Stats{}).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto later = Client::Connect(Tls(server->port()));
  EXPECT_TRUE(later.ok()) << later.status();
}

TEST_F(TlsTest, AServerWithABadCertificateOrKeyDoesNotStart) {
  // Only half of the pair.
  ServerProcess half(data_.path() + "/a", {"--tls_cert=" + File("server.pem")});
  EXPECT_EQ(half.port(), 0);
  // A key that is not the certificate's.
  ServerProcess mismatch(data_.path() + "/b",
                         {"--tls_cert=" + File("server.pem"), "--tls_key=" + File("other.key")});
  EXPECT_EQ(mismatch.port(), 0);
  // A file that is not there.
  ServerProcess missing(data_.path() + "/c", {"--tls_cert=" + File("nope.pem"),
                                              "--tls_key=" + File("server.key")});
  EXPECT_EQ(missing.port(), 0);
}

}  // namespace
}  // namespace vox
