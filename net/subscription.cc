#include "net/subscription.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox {

using Clock = std::chrono::steady_clock;

namespace {

// Errors a new attempt cannot fix: the subscription is refused for good.
bool IsFinal(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

absl::StatusOr<std::unique_ptr<Subscription>> Subscription::Open(
    const ClientOptions& client_options, rpc::Subscribe what, SubscriptionOptions options) {
  if (options.initial_backoff <= std::chrono::milliseconds(0) ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError("the backoffs must be positive, initial <= max");
  }
  VOX_ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Connect(client_options));
  const std::optional<uint64_t> from = what.from_lsn;
  std::unique_ptr<Subscription> sub(new Subscription(std::move(client), std::move(what), options));
  VOX_RETURN_IF_ERROR(sub->Subscribe(from));
  return sub;
}

Subscription::~Subscription() { (void)Close(); }

absl::Status Subscription::Subscribe(std::optional<uint64_t> from_lsn) {
  rpc::Subscribe request = what_;
  request.from_lsn = from_lsn;
  VOX_ASSIGN_OR_RETURN(ResponseStream stream, client_->OpenStream(request));
  VOX_ASSIGN_OR_RETURN(Reply reply, stream.Next(client_->options().timeout));
  VOX_RETURN_IF_ERROR(reply.status());
  VOX_ASSIGN_OR_RETURN(rpc::Subscribed subscribed, rpc::Subscribe::Decode(reply.response()));
  if (from_lsn && subscribed.from_lsn > *from_lsn) {
    // Events between the two would be missing.
    return absl::DataLossError(StrCat("asked to resume after LSN ", *from_lsn,
                                      "; the server starts after LSN ", subscribed.from_lsn));
  }
  subscription_id_ = subscribed.subscription;
  // A server that starts earlier than asked would repeat events: Take skips them.
  last_lsn_.store(from_lsn.value_or(subscribed.from_lsn), std::memory_order_release);
  stream_ = std::move(stream);
  return absl::OkStatus();
}

void Subscription::Take(const Reply& reply) {
  if (absl::Status s = reply.status(); !s.ok()) {
    if (IsFinal(s)) {
      failed_ = s;
      stream_.reset();
    } else {
      Lost(s);
    }
    return;
  }
  absl::StatusOr<rpc::EventBatchInfo> batch = rpc::DecodeEventBatch(reply.response());
  if (!batch.ok()) {  // not an EventBatch: a server we do not understand
    failed_ = batch.status();
    stream_.reset();
    return;
  }
  const uint64_t before = last_lsn();
  for (rpc::StreamEvent& e : batch->events) {
    if (e.lsn > before) ready_.push_back(std::move(e));  // never a repeat
  }
  last_lsn_.store(std::max(before, batch->last_lsn), std::memory_order_release);
  if (!batch->ended.empty()) {
    Lost(absl::UnavailableError(StrCat("the server ended the stream: ", batch->ended)));
  }
}

void Subscription::Lost(const absl::Status& why) {
  stream_.reset();
  down_since_ = next_attempt_ = Clock::now();
  backoff_ = options_.initial_backoff;
  down_because_ = why;
}

void Subscription::TryResume(Clock::time_point deadline) {
  const Clock::time_point now = Clock::now();
  if (now < next_attempt_) {
    std::this_thread::sleep_until(std::min(next_attempt_, deadline));
    return;
  }
  absl::Status s = Subscribe(last_lsn());
  if (s.ok()) {
    resumes_.fetch_add(1, std::memory_order_acq_rel);
    return;
  }
  const std::string what = StrCat("resubscribing after LSN ", last_lsn(), " (",
                                  Message(down_because_), "): ", Message(s));
  if (IsFinal(s)) {
    failed_ = absl::Status(s.code(), what);
  } else if (Clock::now() - down_since_ >= options_.reconnect_for) {
    failed_ = absl::UnavailableError(
        StrCat("gave up after ",
               std::chrono::duration_cast<std::chrono::seconds>(options_.reconnect_for).count(),
               " s ", what));
  } else {
    next_attempt_ = Clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  }
}

absl::StatusOr<rpc::StreamEvent> Subscription::Next(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (!ready_.empty()) {
      rpc::StreamEvent e = std::move(ready_.front());
      ready_.pop_front();
      return e;
    }
    if (closed_) return absl::FailedPreconditionError("the subscription is closed");
    if (!failed_.ok()) return failed_;
    if (!stream_.has_value()) {
      if (Clock::now() >= deadline) return absl::DeadlineExceededError("resubscribing");
      TryResume(deadline);
      continue;
    }
    const auto left =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                 std::chrono::milliseconds(0));
    absl::StatusOr<Reply> reply = stream_->Next(left);
    if (reply.ok()) {
      Take(*reply);
    } else if (absl::IsDeadlineExceeded(reply.status())) {
      return absl::DeadlineExceededError("no event yet");
    } else {
      Lost(reply.status());  // the connection is gone (UNAVAILABLE)
    }
  }
}

absl::Status Subscription::Run(std::stop_token stop,
                               const std::function<void(const rpc::StreamEvent&)>& on_event) {
  while (!stop.stop_requested()) {
    absl::StatusOr<rpc::StreamEvent> e = Next(std::chrono::milliseconds(100));
    if (e.ok()) {
      on_event(*e);
    } else if (!absl::IsDeadlineExceeded(e.status())) {
      return e.status();
    }
  }
  return absl::OkStatus();
}

absl::Status Subscription::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  ready_.clear();
  if (!stream_.has_value()) return absl::OkStatus();
  absl::Status s = client_->Call(rpc::Unsubscribe{subscription_id_});
  stream_.reset();
  if (absl::IsUnavailable(s)) return absl::OkStatus();  // gone with the connection
  return s;
}

}  // namespace vox
