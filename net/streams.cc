#include "net/streams.h"

#include <pthread.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "engine/txn.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "wal/history.h"

namespace vox {

namespace fb = flatbuffers;
using Clock = std::chrono::steady_clock;

struct ChangeStreams::Commit {
  uint64_t lsn;
  Timestamp time;
  std::vector<ChangeEvent> events;
  size_t bytes;
  uint64_t total_bytes = 0;  // of every commit published up to this one
};

struct ChangeStreams::Subscription {
  uint64_t id;
  uint64_t request_id;
  std::shared_ptr<StreamOutlet> out;
  StreamFilter filter;
  // The delivery thread's (set under mu_ before it is listed):
  uint64_t cursor;           // every commit up to here is handled
  Clock::time_point last_push{};
  bool full = false;  // its connection held buffer_bytes at the last look
  Clock::time_point full_since{};
  bool ended = false;
  std::atomic<bool> unsubscribe{false};
  // Its events come from the files (a WAL catch-up) for now: the catch-up
  // thread owns the fields above until it clears this (release).
  std::atomic<bool> catching_up{false};
  uint64_t through = 0;  // a catch-up's end: the history is pinned after it
};

namespace {

wire::Uuid W(const Uuid& u) { return wire::Uuid(u.hi, u.lo); }

size_t EventBytes(const ChangeEvent& e) {
  return sizeof(ChangeEvent) + e.row.size() + e.action.size();
}

// Sets a scalar field already present in a finished buffer (the frames of a
// group differ only in their request and subscription ids).
void Patch(const void* table, fb::voffset_t field, uint64_t value) {
  // A generated table is a flatbuffers::Table (privately inherited, no
  // members of its own).
  auto* t = reinterpret_cast<fb::Table*>(const_cast<void*>(table));
  t->SetField<uint64_t>(field, value, 0);
}

// A pushed frame: Response{id, OK, EventBatch{...}}.
std::vector<uint8_t> BatchFrame(
    uint64_t request_id, uint64_t subscription,
    const std::vector<std::pair<const ChangeStreams::Commit*, const ChangeEvent*>>& events,
    uint64_t last_lsn, std::string_view ended) {
  fb::FlatBufferBuilder fbb(1024);
  std::vector<fb::Offset<wire::StreamEvent>> out;
  out.reserve(events.size());
  for (const auto& [c, e] : events) {
    const wire::Uuid id = W(e->id);
    out.push_back(wire::CreateStreamEvent(
        fbb, c->lsn, c->time, fbb.CreateString(e->table_name != nullptr ? *e->table_name : std::string()), &id, e->deleted,
        e->deleted ? 0 : fbb.CreateString(e->row),
        e->action.empty() ? 0 : fbb.CreateString(e->action)));
  }
  auto vec = fbb.CreateVector(out);
  auto batch = wire::CreateEventBatch(fbb, subscription, vec, last_lsn,
                                      ended.empty() ? 0 : fbb.CreateString(ended));
  wire::ResponseBuilder rb(fbb);
  rb.add_id(request_id);
  rb.add_code(wire::StatusCode::OK);
  rb.add_result_type(wire::Result::EventBatch);
  rb.add_result(batch.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// `frame` (built for another subscription of the same group) with `sub`'s ids.
std::vector<uint8_t> ForSubscription(const std::vector<uint8_t>& frame, uint64_t request_id,
                                     uint64_t subscription) {
  std::vector<uint8_t> copy = frame;
  const wire::Response* r = flatbuffers::GetSizePrefixedRoot<wire::Response>(copy.data());
  Patch(r, wire::Response::VT_ID, request_id);
  Patch(r->result_as_EventBatch(), wire::EventBatch::VT_SUBSCRIPTION, subscription);
  return copy;
}

}  // namespace

bool StreamFilter::Matches(const ChangeEvent& e) const {
  switch (kind) {
    case Kind::kRoom:
      return e.room == id;
    case Kind::kUser:
      return e.users[0] == id || e.users[1] == id;
    case Kind::kTable:
      return e.table == table;
    case Kind::kAllTables:
      return true;
  }
  return false;
}

ChangeStreams::ChangeStreams(StreamOptions options) : options_(options) {}

ChangeStreams::~ChangeStreams() {
  StopCatchUp();
  if (hold_lsn_ != 0 && wal_source_.checkpointer != nullptr) {
    wal_source_.checkpointer->Release(hold_lsn_);
  }
  Detach();
}

void ChangeStreams::StopCatchUp() {
  stopping_.store(true);
  if (catchup_.joinable()) catchup_.join();
}

void ChangeStreams::Replayed(uint64_t lsn, Timestamp commit_time, std::vector<ChangeEvent> events) {
  if (!enabled()) return;
  Publish(lsn, commit_time, std::move(events));
}

void ChangeStreams::Attach(Database& db, WalCommitSink* wal_sink, uint64_t last_lsn) {
  db_ = &db;
  wal_sink_ = wal_sink;
  if (!enabled()) {
    db.set_commit_sink(wal_sink);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!history_started_) {
      history_started_ = true;
      history_after_ = last_lsn;
    }
    last_lsn_ = std::max(last_lsn_, last_lsn);
  }
  db.set_commit_sink(this);
}

void ChangeStreams::Detach() {
  if (db_ != nullptr && db_->commit_sink() == this) db_->set_commit_sink(wal_sink_);
  db_ = nullptr;
}

void ChangeStreams::OnCommit(const Txn& txn) {
  uint64_t lsn;
  if (wal_sink_ != nullptr) {
    wal_sink_->OnCommit(txn);
    // A commit the log did not take will never be durable: no event.
    if (!wal_sink_->status().ok()) return;
    lsn = wal_sink_->last_lsn();
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    lsn = last_lsn_ + 1;
  }
  std::vector<ChangeEvent> events;
  CollectChangeEvents(txn, &events);
  Publish(lsn, txn.now(), std::move(events));
}

void ChangeStreams::Publish(uint64_t lsn, Timestamp commit_time, std::vector<ChangeEvent> events) {
  size_t bytes = sizeof(Commit);
  for (const ChangeEvent& e : events) bytes += EventBytes(e);
  auto commit = std::make_shared<Commit>(Commit{lsn, commit_time, std::move(events), bytes});
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lsn <= last_lsn_ && history_started_) return;  // already have it
    commit->total_bytes = (history_.empty() ? 0 : history_.back()->total_bytes) + bytes;
    if (!history_started_) {
      history_started_ = true;
      history_after_ = lsn - 1;
    }
    history_.push_back(std::move(commit));
    history_bytes_ += bytes;
    last_lsn_ = lsn;
    while (history_bytes_ > options_.retention_bytes && history_.size() > 1 &&
           (history_.front()->lsn <= pin_lsn_ || history_bytes_ > 2 * options_.retention_bytes)) {
      history_bytes_ -= history_.front()->bytes;
      history_after_ = history_.front()->lsn;
      history_.pop_front();
    }
  }
  if (has_subscribers_.load(std::memory_order_relaxed) && wake_) wake_();
}

absl::StatusOr<uint64_t> ChangeStreams::Subscribe(
    std::shared_ptr<StreamOutlet> out, uint64_t request_id, const StreamFilter& filter,
    std::optional<uint64_t> from_lsn, uint64_t* start_lsn,
    const std::function<void(uint64_t id, uint64_t start_lsn)>& accepted) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "change streams are off on this server (--stream_retention_mb=0)");
  }
  uint64_t from, history_after;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = from_lsn.value_or(last_lsn_);
    history_after = history_after_;
    if (from > last_lsn_) {
      return absl::InvalidArgumentError(
          StrCat("from_lsn ", from, " is past the last commit (LSN ", last_lsn_, ")"));
    }
    if (static_cast<int>(subs_.size()) >= options_.max_subscriptions) {
      return absl::ResourceExhaustedError(
          StrCat("too many subscriptions (", options_.max_subscriptions, "); try again later"));
    }
  }
  // Older than the history: from the files, if they still reach back there.
  std::optional<HistorySource> source;
  const auto resync = ": resync from a snapshot read and subscribe from the current LSN";
  if (from < history_after) {
    if (wal_source_.io == nullptr) {
      return absl::OutOfRangeError(StrCat("from_lsn ", from,
                                          " is older than the change history this server keeps "
                                          "(from LSN ", history_after,
                                          " on; --stream_retention_mb)", resync));
    }
    if (catchup_running_.load()) {
      return absl::ResourceExhaustedError(StrCat(
          "from_lsn ", from, " is older than the in-memory history (from LSN ", history_after,
          " on) and another subscriber is catching up from the WAL; try again in a moment"));
    }
    if (wal_source_.checkpointer != nullptr) wal_source_.checkpointer->Hold(from);
    absl::StatusOr<HistorySource> found = FindHistorySource(
        *wal_source_.io, wal_source_.data_dir, wal_source_.database_id, from);
    if (!found.ok()) {
      if (wal_source_.checkpointer != nullptr) wal_source_.checkpointer->Release(from);
      return absl::OutOfRangeError(StrCat(found.status().message(), resync));
    }
    source = *std::move(found);
  }
  auto sub = std::make_shared<Subscription>();
  uint64_t through = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sub->id = next_id_++;
    sub->request_id = request_id;
    sub->out = std::move(out);
    sub->filter = filter;
    sub->cursor = from;
    sub->last_push = Clock::now();
    sub->catching_up.store(source.has_value());
    through = history_after_;  // the history has what follows
    sub->through = through;
    if (source) pin_lsn_ = std::min(pin_lsn_, through);  // until Deliver recomputes it
    sub->out->open_streams.fetch_add(1);
    if (accepted) accepted(sub->id, from);
    subs_.push_back(sub);
    has_subscribers_.store(true, std::memory_order_relaxed);
  }
  if (source) {
    if (catchup_.joinable()) catchup_.join();  // the last one, done
    catchup_running_.store(true);
    catchups_.fetch_add(1, std::memory_order_relaxed);
    catchup_ = std::thread([this, sub, source = *source, through] {
      pthread_setname_np(pthread_self(), "vox-catchup");
      CatchUp(sub, source.snapshot_lsn, source.snapshot, through);
    });
  }
  *start_lsn = from;
  return sub->id;
}

void ChangeStreams::CatchUp(std::shared_ptr<Subscription> sub, uint64_t snapshot_lsn,
                            std::string snapshot, uint64_t through) {
  Subscription& s = *sub;
  const uint64_t from = s.cursor;
  std::deque<Commit> held;  // what `batch` points into
  std::vector<std::pair<const Commit*, const ChangeEvent*>> batch;
  size_t batch_bytes = 0;
  uint64_t reached = from, sent = from;
  bool fell_behind = false;
  auto cancelled = [&] {
    return stopping_.load() || s.out->closed() || s.unsubscribe.load() || fell_behind;
  };
  // Pushes the batch once the connection has room (the same bound as live
  // delivery; a client that takes nothing for stall_limit fell behind).
  auto flush = [&]() -> bool {
    // Only what the WAL acknowledged (the files may hold a record not yet
    // synced).
    while (wal_source_.acknowledged_lsn && wal_source_.acknowledged_lsn() < reached) {
      if (cancelled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto since = Clock::now();
    while (s.out->unsent_bytes() >= options_.buffer_bytes) {
      if (cancelled()) return false;
      if (Clock::now() - since >= options_.stall_limit) {
        fell_behind = true;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    s.out->Push(BatchFrame(s.request_id, s.id, batch, reached, {}));
    frames_pushed_.fetch_add(1, std::memory_order_relaxed);
    events_delivered_.fetch_add(batch.size(), std::memory_order_relaxed);
    sent = reached;
    s.last_push = Clock::now();
    batch.clear();
    held.clear();
    batch_bytes = 0;
    return true;
  };
  const absl::Status status = ReplayHistory(
      *wal_source_.io,
      {.data_dir = wal_source_.data_dir,
       .database_id = wal_source_.database_id,
       .source = {std::move(snapshot), snapshot_lsn},
       .after_lsn = from,
       .through_lsn = through,
       .on_events =
           [&](uint64_t lsn, Timestamp t, std::vector<ChangeEvent> events) {
             held.push_back(Commit{lsn, t, std::move(events), 0});
             const Commit& c = held.back();
             for (const ChangeEvent& e : c.events) {
               if (!s.filter.Matches(e)) continue;
               batch.emplace_back(&c, &e);
               batch_bytes += EventBytes(e);
             }
             reached = lsn;
             if (batch.empty()) held.clear();
             if (batch_bytes >= options_.max_batch_bytes) flush();
           },
       .cancelled = cancelled});
  const bool done = status.ok() && !fell_behind && (batch.empty() || flush());
  if (wal_source_.checkpointer != nullptr) wal_source_.checkpointer->Release(from);
  s.cursor = done ? through : sent;
  if (!done) {
    if (s.out->closed()) {
      s.ended = true;
      s.out->open_streams.fetch_sub(1);
    } else if (s.unsubscribe.load()) {
      End(s, "unsubscribed");
    } else if (fell_behind) {
      fell_behind_.fetch_add(1, std::memory_order_relaxed);
      End(s, StrCat("fell behind at LSN ", sent, ": the client did not read its events"));
    } else if (!stopping_.load()) {
      End(s, StrCat("could not replay the WAL after LSN ", sent, ": ", status.message()));
    }
  }
  s.catching_up.store(false, std::memory_order_release);
  catchup_running_.store(false);
  if (wake_) wake_();
}

absl::Status ChangeStreams::Unsubscribe(const StreamOutlet* out, uint64_t id,
                                        const std::function<void()>& accepted) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(subs_.begin(), subs_.end(), [&](const auto& s) {
      return s->id == id && s->out.get() == out && !s->unsubscribe.load();
    });
    if (it == subs_.end()) {
      return absl::NotFoundError(StrCat("no subscription ", id, " on this connection"));
    }
    if (accepted) accepted();
    (*it)->unsubscribe.store(true);
  }
  if (wake_) wake_();
  return absl::OkStatus();
}

void ChangeStreams::End(Subscription& sub, std::string_view why) {
  if (sub.ended) return;
  sub.ended = true;
  sub.out->Push(BatchFrame(sub.request_id, sub.id, {}, sub.cursor, why));
  frames_pushed_.fetch_add(1, std::memory_order_relaxed);
  sub.out->open_streams.fetch_sub(1);
}

bool ChangeStreams::HasWork() const {
  if (!has_subscribers_.load(std::memory_order_relaxed)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : subs_) {
    if (s->catching_up.load(std::memory_order_acquire)) continue;
    if (s->ended || s->cursor < last_lsn_ || s->unsubscribe.load() || s->out->closed()) return true;
  }
  return false;
}

bool ChangeStreams::Deliver(uint64_t durable) {
  if (!has_subscribers_.load(std::memory_order_relaxed)) return false;
  std::vector<std::shared_ptr<Subscription>> subs;
  std::vector<std::shared_ptr<const Commit>> commits;
  uint64_t history_after, limit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subs = subs_;
    history_after = history_after_;
    limit = std::min(durable, last_lsn_);
    uint64_t from = limit, pin = UINT64_MAX;
    for (const auto& s : subs) {
      if (s->catching_up.load(std::memory_order_acquire)) {
        pin = std::min(pin, s->through);
      } else {
        from = std::min(from, s->cursor);
        pin = std::min(pin, s->cursor);
      }
    }
    pin_lsn_ = pin;
    from = std::max(from, history_after);
    auto first = std::lower_bound(history_.begin(), history_.end(), from + 1,
                                  [](const auto& c, uint64_t lsn) { return c->lsn < lsn; });
    for (auto it = first; it != history_.end() && (*it)->lsn <= limit; ++it) commits.push_back(*it);
  }
  const auto now = Clock::now();
  // Subscriptions that follow the same thing from the same point get the
  // same frames: built once, copied with their own ids.
  struct Group {
    StreamFilter filter;
    uint64_t cursor;
    std::vector<Subscription*> members;
  };
  std::vector<Group> groups;
  bool removed = false, progressed = false;
  for (const auto& sp : subs) {
    Subscription& s = *sp;
    if (s.catching_up.load(std::memory_order_acquire)) continue;
    if (s.ended) {  // by its catch-up
      removed = true;
      continue;
    }
    if (s.out->closed()) {
      if (!s.ended) {
        s.ended = true;
        s.out->open_streams.fetch_sub(1);
      }
      removed = true;
      continue;
    }
    if (s.unsubscribe.load()) {
      End(s, "unsubscribed");
      removed = true;
      continue;
    }
    if (s.cursor < history_after) {
      fell_behind_.fetch_add(1, std::memory_order_relaxed);
      End(s, StrCat("fell behind at LSN ", s.cursor, ": its events left the server's history"));
      removed = true;
      continue;
    }
    if (s.cursor >= limit) {
      s.full = false;
      continue;
    }
    if (s.out->unsent_bytes() >= options_.buffer_bytes) {
      if (!s.full) {
        s.full = true;
        s.full_since = now;
      } else if (now - s.full_since >= options_.stall_limit) {
        fell_behind_.fetch_add(1, std::memory_order_relaxed);
        End(s, StrCat("fell behind at LSN ", s.cursor, ": the client did not read its events"));
        removed = true;
      }
      continue;
    }
    s.full = false;
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.cursor == s.cursor && g.filter == s.filter;
    });
    if (g == groups.end()) {
      groups.push_back({s.filter, s.cursor, {}});
      g = groups.end() - 1;
    }
    g->members.push_back(&s);
  }
  for (Group& g : groups) {
    auto first = std::lower_bound(commits.begin(), commits.end(), g.cursor + 1,
                                  [](const auto& c, uint64_t lsn) { return c->lsn < lsn; });
    // Frames of whole transactions, up to buffer_bytes in all this round.
    std::vector<std::vector<uint8_t>> frames;
    std::vector<std::pair<const Commit*, const ChangeEvent*>> batch;
    size_t batch_bytes = 0, round_bytes = 0;
    uint64_t reached = g.cursor;
    uint64_t events = 0;
    const Subscription& lead = *g.members.front();
    auto flush = [&] {
      if (batch.empty()) return;
      frames.push_back(BatchFrame(lead.request_id, lead.id, batch, reached, {}));
      round_bytes += frames.back().size();
      events += batch.size();
      batch.clear();
      batch_bytes = 0;
    };
    for (auto it = first; it != commits.end(); ++it) {
      const Commit& c = **it;
      for (const ChangeEvent& e : c.events) {
        if (!g.filter.Matches(e)) continue;
        batch.emplace_back(&c, &e);
        batch_bytes += EventBytes(e);
      }
      reached = c.lsn;
      if (batch_bytes >= options_.max_batch_bytes) flush();
      if (round_bytes >= options_.buffer_bytes) break;
    }
    flush();
    // Nothing of theirs in a while: tell them how far they are, so that a
    // resume starts from there (and not from history long gone).
    const bool progress_only = frames.empty() && reached > g.cursor;
    for (Subscription* s : g.members) {
      if (progress_only) {
        if (now - s->last_push >= std::chrono::seconds(1)) {
          s->out->Push(BatchFrame(s->request_id, s->id, {}, reached, {}));
          frames_pushed_.fetch_add(1, std::memory_order_relaxed);
          s->last_push = now;
        }
      } else if (!frames.empty()) {
        for (const auto& f : frames) {
          s->out->Push(s == &lead ? f : ForSubscription(f, s->request_id, s->id));
        }
        frames_pushed_.fetch_add(frames.size(), std::memory_order_relaxed);
        events_delivered_.fetch_add(events, std::memory_order_relaxed);
        s->last_push = now;
      }
      s->cursor = reached;
    }
    progressed |= reached > g.cursor;
  }
  if (removed) {
    std::lock_guard<std::mutex> lock(mu_);
    auto gone = std::stable_partition(subs_.begin(), subs_.end(), [](const auto& s) {
      return s->catching_up.load(std::memory_order_acquire) || !s->ended;
    });
    for (auto it = gone; it != subs_.end(); ++it) recent_ends_.emplace_back(now, (*it)->cursor);
    subs_.erase(gone, subs_.end());
    has_subscribers_.store(!subs_.empty(), std::memory_order_relaxed);
    if (subs_.empty()) pin_lsn_ = UINT64_MAX;
  }
  if (now - last_hold_update_ >= std::chrono::seconds(1)) {
    last_hold_update_ = now;
    UpdateHold();
  }
  return progressed || removed;
}

void ChangeStreams::UpdateHold() {
  if (wal_source_.checkpointer == nullptr) return;
  const auto now = Clock::now();
  while (!recent_ends_.empty() && now - recent_ends_.front().first > options_.resume_grace) {
    recent_ends_.pop_front();
  }
  uint64_t target = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (history_.empty()) return;
    const uint64_t end_bytes = history_.back()->total_bytes;
    // Bytes of changes after `lsn` (for one older than the history: all of it).
    auto behind = [&](uint64_t lsn) {
      auto it = std::lower_bound(history_.begin(), history_.end(), lsn + 1,
                                 [](const auto& c, uint64_t l) { return c->lsn < l; });
      if (it == history_.begin()) return end_bytes;
      return end_bytes - (*std::prev(it))->total_bytes;
    };
    auto consider = [&](uint64_t lsn) {
      if (lsn >= last_lsn_ || behind(lsn) > options_.wal_hold_bytes) return;
      target = target == 0 ? lsn : std::min(target, lsn);
    };
    for (const auto& s : subs_) {
      if (!s->catching_up.load(std::memory_order_acquire) && !s->ended) consider(s->cursor);
    }
    for (const auto& [when, lsn] : recent_ends_) consider(lsn);
  }
  if (target == hold_lsn_) return;
  if (target != 0) wal_source_.checkpointer->Hold(target);
  if (hold_lsn_ != 0) wal_source_.checkpointer->Release(hold_lsn_);
  hold_lsn_ = target;
  hold_for_stats_.store(target, std::memory_order_relaxed);
}

void ChangeStreams::EndAll(std::string_view why) {
  StopCatchUp();
  if (hold_lsn_ != 0 && wal_source_.checkpointer != nullptr) {
    wal_source_.checkpointer->Release(hold_lsn_);
    hold_lsn_ = 0;
    hold_for_stats_.store(0, std::memory_order_relaxed);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : subs_) {
    if (!s->out->closed() && !s->ended) End(*s, why);
  }
  subs_.clear();
  has_subscribers_.store(false, std::memory_order_relaxed);
  pin_lsn_ = UINT64_MAX;
}

ChangeStreams::Stats ChangeStreams::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {.history_after_lsn = history_after_,
          .last_lsn = last_lsn_,
          .history_bytes = history_bytes_,
          .history_commits = history_.size(),
          .subscriptions = subs_.size(),
          .events_delivered = events_delivered_.load(),
          .frames_pushed = frames_pushed_.load(),
          .fell_behind = fell_behind_.load(),
          .catchups = catchups_.load(),
          .wal_hold_lsn = hold_for_stats_.load()};
}

}  // namespace vox
