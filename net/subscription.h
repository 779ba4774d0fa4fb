// A typed, resuming change stream (docs/streams.md): the events of a room,
// a user or a table, each once, in commit order, with no gap, across
// dropped connections, server restarts and a server that cut the
// subscriber off for falling behind.
//
//   auto sub = vox::Subscription::Open({.port = 7070, .token = "app1:secret"},
//                                      vox::rpc::Subscribe{.room_id = room});
//   while (true) {
//     absl::StatusOr<vox::rpc::StreamEvent> e = (*sub)->Next(std::chrono::seconds(1));
//     if (absl::IsDeadlineExceeded(e.status())) continue;  // nothing new yet
//     if (!e.ok()) return e.status();                       // retrying cannot fix it
//     Fanout(*e);
//   }
//
// It holds its own connection (a Client). It remembers the LSN of the last
// transaction it received whole (last_lsn(): an EventBatch's `last_lsn`);
// when the connection drops, the server restarts or the stream ends with
// "fell behind at LSN X" or "the server is stopping", it resubscribes from
// there, retrying with backoff for up to `reconnect_for`. Events received
// before a loss are still returned. A subscriber that stores last_lsn()
// with its own state can restart from it (rpc::Subscribe::from_lsn).
//
// Thread-compatible: one thread calls Next, Run and Close; last_lsn() and
// resumes() may be read from any thread.
#ifndef VOXDB_NET_SUBSCRIPTION_H_
#define VOXDB_NET_SUBSCRIPTION_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/client.h"
#include "net/rpc.h"

namespace vox {

struct SubscriptionOptions {
  // How long to keep trying to resubscribe after a loss before Next fails
  // with UNAVAILABLE.
  std::chrono::milliseconds reconnect_for{30000};
  // The wait before the second attempt (the first is at once), doubled
  // after each failure up to `max_backoff`.
  std::chrono::milliseconds initial_backoff{50};
  std::chrono::milliseconds max_backoff{1000};
};

class Subscription {
 public:
  // Connects and subscribes to `what` (rpc::Subscribe: exactly one of
  // room_id, user_id, table; from_lsn to resume). Fails with the server's
  // refusal (OUT_OF_RANGE: from_lsn is older than the history it keeps;
  // resync from a snapshot read, then subscribe from its LSN) or when it
  // cannot connect; no retry here.
  static absl::StatusOr<std::unique_ptr<Subscription>> Open(const ClientOptions& client_options,
                                                            rpc::Subscribe what,
                                                            SubscriptionOptions options = {});
  // Closes (best effort).
  ~Subscription();

  // The next event, waiting up to `timeout`: DEADLINE_EXCEEDED when none
  // came (call again). While resubscribing it may take up to the client's
  // request timeout longer. Errors that retrying cannot fix (OUT_OF_RANGE,
  // NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED,
  // FAILED_PRECONDITION), and UNAVAILABLE after `reconnect_for` without a
  // server, are final: every later call returns them too.
  absl::StatusOr<rpc::StreamEvent> Next(std::chrono::milliseconds timeout);

  // Calls `on_event` for each event until `stop` is requested (then OK)
  // or a final error (returned).
  absl::Status Run(std::stop_token stop,
                   const std::function<void(const rpc::StreamEvent&)>& on_event);

  // The LSN of the last transaction received whole: resuming from it
  // neither repeats nor skips an event. Before any batch, where the
  // subscription started.
  uint64_t last_lsn() const { return last_lsn_.load(std::memory_order_acquire); }
  // How many times it resubscribed.
  int resumes() const { return resumes_.load(std::memory_order_acquire); }
  // The server's id of the current subscription (changes on resume).
  uint64_t subscription_id() const { return subscription_id_; }

  // Unsubscribes. Events received but not yet returned are dropped; Next
  // then fails with FAILED_PRECONDITION. A lost connection is not an error
  // (the server ended the subscription with it).
  absl::Status Close();

 private:
  Subscription(std::unique_ptr<Client> client, rpc::Subscribe what, SubscriptionOptions options)
      : client_(std::move(client)), what_(std::move(what)), options_(options) {}
  // Sends Subscribe (from `from_lsn`) and waits for its answer.
  absl::Status Subscribe(std::optional<uint64_t> from_lsn);
  // Takes one response of the stream.
  void Take(const Reply& reply);
  // The stream is gone because of `why`: resubscribe (or fail for good).
  void Lost(const absl::Status& why);
  // One resubscription attempt when its time has come, else a wait for it
  // (up to `deadline`).
  void TryResume(std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<Client> client_;
  rpc::Subscribe what_;
  SubscriptionOptions options_;
  std::optional<ResponseStream> stream_;  // none: resubscribing
  std::deque<rpc::StreamEvent> ready_;    // received, not yet returned
  absl::Status failed_;                   // final
  bool closed_ = false;
  uint64_t subscription_id_ = 0;
  std::atomic<uint64_t> last_lsn_{0};
  std::atomic<int> resumes_{0};
  // While resubscribing: since when, the next attempt, its backoff, and why.
  std::chrono::steady_clock::time_point down_since_, next_attempt_;
  std::chrono::milliseconds backoff_{0};
  absl::Status down_because_;
};

}  // namespace vox

#endif  // VOXDB_NET_SUBSCRIPTION_H_
