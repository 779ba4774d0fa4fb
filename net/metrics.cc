#include "net/metrics.h"

#include <asio.hpp>
#include <cstdio>
#include <string_view>

#include "engine/database.h"
#include "net/server.h"
#include "schema/str.h"
#include "schema/tables.h"
#include "schema/voxdb_generated.h"

namespace vox {

namespace {

constexpr size_t kOps = static_cast<size_t>(wire::Op::MAX) + 1;
constexpr size_t kCodes = static_cast<size_t>(wire::StatusCode::MAX) + 1;

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Microseconds as decimal seconds, exactly: 1 -> "0.000001", 20000 -> "0.02".
std::string MicrosAsSeconds(uint64_t micros) {
  std::string out = StrCat(micros / 1000000);
  uint64_t frac = micros % 1000000;
  if (frac == 0) return out;
  char digits[8];
  std::snprintf(digits, sizeof(digits), "%06llu", static_cast<unsigned long long>(frac));
  std::string_view f(digits, 6);
  while (f.back() == '0') f.remove_suffix(1);
  out += '.';
  out += f;
  return out;
}

std::string Double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6f", v);
  return buf;
}

// A label value, escaped as the exposition format wants.
std::string Quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// Writes metric families: HELP and TYPE once, then the family's samples.
class Exposition {
 public:
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += StrCat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  // `labels` is empty or `a="x",b="y"`.
  void Sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) out_ += StrCat("{", labels, "}");
    out_ += StrCat(" ", value, "\n");
  }
  void Sample(std::string_view name, std::string_view labels, uint64_t value) {
    Sample(name, labels, std::string_view(StrCat(value)));
  }
  void One(std::string_view name, std::string_view type, std::string_view help,
           std::string_view value) {
    Family(name, type, help);
    Sample(name, "", value);
  }
  void One(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    One(name, type, help, std::string_view(StrCat(value)));
  }
  // A histogram in seconds from counts in microseconds: cumulative buckets,
  // +Inf, _sum and _count.
  void Histogram(std::string_view name, std::string_view labels, const HistogramCounts& h) {
    const std::string prefix = labels.empty() ? std::string() : StrCat(labels, ",");
    const std::string bucket = StrCat(name, "_bucket");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBucketsMicros.size(); ++i) {
      cumulative += h.buckets[i];
      Sample(bucket, StrCat(prefix, "le=\"", MicrosAsSeconds(kLatencyBucketsMicros[i]), "\""),
             cumulative);
    }
    cumulative += h.buckets.back();
    Sample(bucket, StrCat(prefix, "le=\"+Inf\""), cumulative);
    Sample(StrCat(name, "_sum"), labels, std::string_view(MicrosAsSeconds(h.sum_micros)));
    Sample(StrCat(name, "_count"), labels, cumulative);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

uint64_t HistogramCounts::count() const {
  uint64_t n = 0;
  for (uint64_t b : buckets) n += b;
  return n;
}

void LatencyHistogram::Observe(uint64_t micros) {
  buckets_[LatencyBucket(micros)].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(micros, std::memory_order_relaxed);
}

HistogramCounts LatencyHistogram::Read() const {
  HistogramCounts h;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    h.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  h.sum_micros = sum_micros_.load(std::memory_order_relaxed);
  return h;
}

struct ServerMetrics::PerOp {
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, kCodes> by_code{};  // [OK] unused
  LatencyHistogram latency;
};

ServerMetrics::ServerMetrics(const WalWriter* wal, const Checkpointer* checkpointer,
                             Durability durability)
    : wal_(wal),
      checkpointer_(checkpointer),
      durability_(durability),
      started_(std::chrono::steady_clock::now()),
      ops_(new PerOp[kOps]) {}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::RequestDone(uint8_t op, uint16_t code, uint64_t micros) {
  PerOp& o = ops_[op < kOps ? op : 0];
  o.requests.fetch_add(1, std::memory_order_relaxed);
  if (code != 0) {
    o.by_code[code < kCodes ? code : static_cast<size_t>(wire::StatusCode::UNKNOWN)].fetch_add(
        1, std::memory_order_relaxed);
  }
  o.latency.Observe(micros);
}

void ServerMetrics::ConnectionAccepted() {
  connections_accepted_.fetch_add(1, std::memory_order_relaxed);
  connections_open_.fetch_add(1, std::memory_order_relaxed);
}

void ServerMetrics::ConnectionRefused() {
  connections_refused_.fetch_add(1, std::memory_order_relaxed);
}

void ServerMetrics::ConnectionClosed() {
  connections_open_.fetch_sub(1, std::memory_order_relaxed);
}

double ServerMetrics::SampleTables(const Database& db, bool with_bytes) {
  const auto t0 = std::chrono::steady_clock::now();
  // Every table of the live schema (migrations add and drop tables).
  std::vector<MetricsSnapshot::Table> last;
  {
    std::lock_guard<std::mutex> lock(tables_mu_);
    last = tables_;
  }
  std::vector<MetricsSnapshot::Table> sample(db.table_count());
  for (size_t t = 0; t < sample.size(); ++t) {
    const Table& table = db.table(static_cast<TableId>(t));
    MetricsSnapshot::Table& s = sample[t];
    s.name = std::string(table.name());
    // A sample without bytes keeps the table's last ones (found by name:
    // dropping a table renumbers those after it).
    if (t < last.size() && last[t].name == s.name) {
      s = last[t];
    } else {
      for (const MetricsSnapshot::Table& l : last) {
        if (l.name == s.name) s = l;
      }
    }
    s.rows = table.live_count();
    if (with_bytes) {
      s.column_bytes = table.ColumnBytes();
      s.index_bytes = table.IndexBytes();
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  const double took = std::chrono::duration<double>(t1 - t0).count();
  std::lock_guard<std::mutex> lock(tables_mu_);
  tables_ = std::move(sample);
  sampled_at_ = t1;
  if (with_bytes) sample_seconds_ = took;
  return took;
}

MetricsSnapshot ServerMetrics::Snapshot() const {
  MetricsSnapshot s;
  s.server_version = kServerVersion;
  s.uptime_seconds = SecondsSince(started_);
  for (size_t op = 1; op < kOps; ++op) {  // 0 is NONE
    const PerOp& o = ops_[op];
    MetricsSnapshot::Op out;
    out.name = wire::EnumNameOp(static_cast<wire::Op>(op));
    out.requests = o.requests.load(std::memory_order_relaxed);
    for (size_t code = 1; code < kCodes; ++code) {
      const uint64_t n = o.by_code[code].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out.errors += n;
      out.errors_by_code.emplace_back(wire::EnumNameStatusCode(static_cast<wire::StatusCode>(code)),
                                      n);
    }
    out.latency = o.latency.Read();
    s.ops.push_back(std::move(out));
  }
  s.connections_open = connections_open_.load(std::memory_order_relaxed);
  s.connections_accepted = connections_accepted_.load(std::memory_order_relaxed);
  s.connections_refused = connections_refused_.load(std::memory_order_relaxed);
  s.bytes_received = bytes_received_.load(std::memory_order_relaxed);
  s.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  s.frames_malformed = frames_malformed_.load(std::memory_order_relaxed);
  s.frames_oversized = frames_oversized_.load(std::memory_order_relaxed);
  s.durability = durability_;
  if (wal_ != nullptr && durability_ != Durability::kNone) {
    s.wal = wal_->stats();
    s.wal_durable_lsn = wal_->durable_lsn();
  }
  if (streams_) s.streams = streams_();
  if (checkpointer_ != nullptr) {
    s.checkpoints = checkpointer_->stats();
    s.checkpoint_running = checkpointer_->running();
    if (s.checkpoints->last) {
      const Timestamp now = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
      s.snapshot_age_seconds =
          std::max<double>(0, static_cast<double>(now - s.checkpoints->last_finished_at) / 1e6);
    }
  }
  std::lock_guard<std::mutex> lock(tables_mu_);
  s.tables = tables_;
  if (sampled_at_) s.tables_sample_age_seconds = SecondsSince(*sampled_at_);
  s.tables_sample_seconds = sample_seconds_;
  return s;
}

std::string RenderPrometheus(const MetricsSnapshot& s) {
  Exposition e;
  e.Family("voxdb_info", "gauge", "The server's version and durability mode; always 1.");
  e.Sample("voxdb_info",
           StrCat("version=", Quote(s.server_version),
                  ",durability=", Quote(DurabilityName(s.durability))),
           1);
  e.One("voxdb_uptime_seconds", "gauge", "Seconds since the server started.",
        Double(s.uptime_seconds));

  e.Family("voxdb_requests_total", "counter", "Requests answered, by protocol operation.");
  for (const auto& op : s.ops)
    e.Sample("voxdb_requests_total", StrCat("op=", Quote(op.name)), op.requests);
  e.Family("voxdb_request_errors_total", "counter",
           "Requests answered with an error, by operation and status code (non-zero series only).");
  for (const auto& op : s.ops) {
    for (const auto& [code, n] : op.errors_by_code) {
      e.Sample("voxdb_request_errors_total", StrCat("op=", Quote(op.name), ",code=", Quote(code)),
               n);
    }
  }
  e.Family("voxdb_request_duration_seconds", "histogram",
           "From a request's frame being read to its answer being released (after the durability "
           "gate), by operation (operations seen at least once).");
  for (const auto& op : s.ops) {
    if (op.requests == 0) continue;
    e.Histogram("voxdb_request_duration_seconds", StrCat("op=", Quote(op.name)), op.latency);
  }

  e.One("voxdb_connections_open", "gauge", "Protocol connections open now (accepted, not closed).",
        std::string_view(StrCat(s.connections_open)));
  e.One("voxdb_connections_accepted_total", "counter", "Protocol connections accepted.",
        s.connections_accepted);
  e.One("voxdb_connections_refused_total", "counter",
        "Protocol connections refused over --max_connections.", s.connections_refused);
  e.One("voxdb_received_bytes_total", "counter", "Bytes of protocol frames received.",
        s.bytes_received);
  e.One("voxdb_sent_bytes_total", "counter", "Bytes of protocol frames sent.", s.bytes_sent);
  e.Family("voxdb_frames_rejected_total", "counter",
           "Frames refused before execution: malformed (failed verification) or oversized "
           "(over --max_frame_bytes).");
  e.Sample("voxdb_frames_rejected_total", "reason=\"malformed\"", s.frames_malformed);
  e.Sample("voxdb_frames_rejected_total", "reason=\"oversized\"", s.frames_oversized);

  if (s.wal) {
    const WalWriter::Stats& w = *s.wal;
    e.One("voxdb_wal_records_total", "counter", "Transactions appended to the WAL and written.",
          w.records);
    e.One("voxdb_wal_batches_total", "counter", "WAL group commits (batches written).", w.batches);
    e.One("voxdb_wal_written_bytes_total", "counter", "Bytes written to the WAL.", w.bytes);
    e.One("voxdb_wal_segments_created_total", "counter", "WAL segments started.", w.segments);
    e.One("voxdb_wal_durable_lsn", "gauge", "The last LSN synced to disk.", s.wal_durable_lsn);
    e.Family("voxdb_wal_sync_duration_seconds", "histogram",
             "WAL fdatasync latency: the io_uring submission of a batch's write linked to its "
             "fdatasync (or a sync alone).");
    HistogramCounts h;
    h.buckets = w.sync_micros;
    h.sum_micros = w.sync_micros_sum;
    e.Histogram("voxdb_wal_sync_duration_seconds", "", h);
  }

  if (s.streams) {
    const MetricsSnapshot::Streams& c = *s.streams;
    e.One("voxdb_stream_subscriptions", "gauge", "Change-stream subscriptions open.",
          c.subscriptions);
    e.One("voxdb_stream_history_bytes", "gauge",
          "Bytes of events kept in memory for subscribers to resume from.", c.history_bytes);
    e.One("voxdb_stream_history_start_lsn", "gauge",
          "The in-memory history holds every transaction after this LSN.", c.history_after_lsn);
    e.One("voxdb_stream_events_delivered_total", "counter",
          "Events handed to subscribers' connections.", c.events_delivered);
    e.One("voxdb_stream_frames_pushed_total", "counter", "EventBatch frames pushed.",
          c.frames_pushed);
    e.One("voxdb_stream_fell_behind_total", "counter",
          "Subscriptions ended because the subscriber did not keep up.", c.fell_behind);
    e.One("voxdb_stream_catchups_total", "counter",
          "Subscribers resumed from the WAL (older than the in-memory history).", c.catchups);
    e.One("voxdb_stream_wal_hold_lsn", "gauge",
          "WAL kept for subscribers from this LSN on (0: none).", c.wal_hold_lsn);
  }
  if (s.checkpoints) {
    const Checkpointer::Stats& c = *s.checkpoints;
    e.One("voxdb_checkpoints_total", "counter", "Checkpoints completed since start.", c.completed);
    e.One("voxdb_checkpoint_failures_total", "counter", "Checkpoints failed since start.",
          c.failed);
    e.One("voxdb_checkpoint_running", "gauge", "1 while a checkpoint is being written.",
          s.checkpoint_running ? 1 : 0);
    if (c.last && s.snapshot_age_seconds) {
      e.One("voxdb_snapshot_age_seconds", "gauge",
            "Seconds since the last checkpoint completed (absent before the first).",
            Double(*s.snapshot_age_seconds));
      e.One("voxdb_snapshot_last_bytes", "gauge", "Size of the last checkpoint's snapshot file.",
            c.last->bytes);
      e.One("voxdb_snapshot_last_duration_seconds", "gauge",
            "Time the last checkpoint took to write its snapshot.", Double(c.last->seconds));
      e.One("voxdb_snapshot_last_rows", "gauge", "Live rows in the last checkpoint's snapshot.",
            c.last->total_rows);
      e.One("voxdb_snapshot_last_lsn", "gauge", "The LSN the last checkpoint's snapshot holds.",
            c.last->lsn);
    }
  }

  if (!s.tables.empty()) {
    e.Family("voxdb_table_rows", "gauge", "Live rows per table (sampled on the engine thread).");
    for (const auto& t : s.tables)
      e.Sample("voxdb_table_rows", StrCat("table=", Quote(t.name)), t.rows);
    e.Family("voxdb_table_column_bytes", "gauge",
             "Memory held by a table's columns and string heaps (sampled at most once a second).");
    for (const auto& t : s.tables) {
      e.Sample("voxdb_table_column_bytes", StrCat("table=", Quote(t.name)), t.column_bytes);
    }
    e.Family("voxdb_table_index_bytes", "gauge",
             "Memory held by a table's indexes (estimated; sampled at most once a second).");
    for (const auto& t : s.tables) {
      e.Sample("voxdb_table_index_bytes", StrCat("table=", Quote(t.name)), t.index_bytes);
    }
  }
  if (s.tables_sample_age_seconds) {
    e.One("voxdb_table_sample_age_seconds", "gauge", "Seconds since the tables were last sampled.",
          Double(*s.tables_sample_age_seconds));
    e.One("voxdb_table_sample_duration_seconds", "gauge",
          "Engine-thread time the last full table sample (rows and bytes) took.",
          Double(s.tables_sample_seconds));
  }
  return e.Take();
}

// ---- The HTTP endpoint ----

using asio::ip::tcp;

struct MetricsEndpoint::State {
  State(asio::io_context& io, const MetricsEndpointOptions& o, std::function<std::string()> r)
      : io(io), acceptor(io), options(o), render(std::move(r)) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  const MetricsEndpointOptions options;
  const std::function<std::string()> render;
  int active = 0;  // io thread only
};

namespace {

struct HttpAnswer {
  std::string status;  // "200 OK"
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::string extra_headers;
  bool head = false;  // HEAD: headers only
};

// Answers one request header block (everything before the blank line).
HttpAnswer Answer(std::string_view header, const std::function<std::string()>& render) {
  const HttpAnswer bad{"400 Bad Request", "bad request\n"};
  const size_t eol = header.find("\r\n");
  const std::string_view line = header.substr(0, eol);
  // METHOD SP target SP HTTP/1.x
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0) return bad;
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (char c : method) {
    if (c < 'A' || c > 'Z') return bad;
  }
  if (target.empty() || target[0] != '/' || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    return bad;
  }
  for (char c : target) {
    if (c <= ' ' || c == 0x7f) return bad;
  }
  // Header fields: "name: value", the name a token.
  std::string_view rest = eol == std::string_view::npos ? "" : header.substr(eol + 2);
  while (!rest.empty()) {
    const size_t end = rest.find("\r\n");
    const std::string_view field = rest.substr(0, end);
    const size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) return bad;
    for (char c : field.substr(0, colon)) {
      if (c <= ' ' || c >= 0x7f) return bad;
    }
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
  }
  if (method != "GET" && method != "HEAD") {
    return {"405 Method Not Allowed", "only GET\n", "text/plain; charset=utf-8",
            "Allow: GET, HEAD\r\n"};
  }
  const size_t query = target.find('?');
  if (query != std::string_view::npos) target = target.substr(0, query);
  if (target != "/metrics") {
    HttpAnswer a{"404 Not Found", "not found; try /metrics\n"};
    a.head = method == "HEAD";
    return a;
  }
  HttpAnswer a{"200 OK", render(), "text/plain; version=0.0.4; charset=utf-8"};
  a.head = method == "HEAD";
  return a;
}

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(std::shared_ptr<MetricsEndpoint::State> state, tcp::socket socket)
      : state_(std::move(state)),
        socket_(std::move(socket)),
        deadline_(state_->io),
        request_(state_->options.max_request_bytes) {}

  void Start() {
    ++state_->active;
    deadline_.expires_after(state_->options.timeout);
    deadline_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->Close();
    });
    asio::async_read_until(socket_, request_, "\r\n\r\n",
                           [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                             self->OnRequest(ec, n);
                           });
  }

 private:
  void OnRequest(const asio::error_code& ec, size_t n) {
    if (closed_) return;
    if (ec == asio::error::not_found) {  // the header passed the cap
      return Respond({"400 Bad Request", "request header too large\n"});
    }
    if (ec) return Close();
    const std::string_view data(static_cast<const char*>(request_.data().data()), n - 4);
    Respond(Answer(data, state_->render));
  }
  void Respond(const HttpAnswer& a) {
    response_ = StrCat("HTTP/1.1 ", a.status, "\r\nContent-Type: ", a.content_type,
                       "\r\nContent-Length: ", a.body.size(), "\r\n", a.extra_headers,
                       "Connection: close\r\n\r\n");
    if (!a.head) response_ += a.body;
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](const asio::error_code& ec, size_t) {
                        if (ec) return self->Close();
                        // A lingering close: send FIN, then read what the
                        // client still sends until it closes (or the
                        // deadline), so that unread input does not turn our
                        // close into a reset that loses the answer.
                        asio::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->Drain();
                      });
  }
  void Drain() {
    socket_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](const asio::error_code& ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    --state_->active;
    asio::error_code ec;
    deadline_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  std::shared_ptr<MetricsEndpoint::State> state_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  asio::streambuf request_;
  std::string response_;
  char drain_[1024];
  bool closed_ = false;
};

void Accept(std::shared_ptr<MetricsEndpoint::State> state) {
  MetricsEndpoint::State& s = *state;
  s.acceptor.async_accept(
      [state = std::move(state)](const asio::error_code& ec, tcp::socket socket) mutable {
        if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) return;  // closed
        if (!ec) {
          if (state->active >= state->options.max_connections) {
            asio::error_code ignored;
            socket.close(ignored);  // too many scrapes at once
          } else {
            std::make_shared<HttpConnection>(state, std::move(socket))->Start();
          }
        }
        Accept(std::move(state));
      });
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    asio::io_context& io, const MetricsEndpointOptions& options,
    std::function<std::string()> render) {
  auto state = std::make_shared<State>(io, options, std::move(render));
  asio::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("bad metrics address ", options.address));
  const tcp::endpoint endpoint(address, options.port);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(StrCat("cannot listen for metrics on ", options.address, ":",
                                         options.port, ": ", ec.message()));
  }
  const uint16_t port = state->acceptor.local_endpoint().port();
  Accept(state);
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(state), port));
}

MetricsEndpoint::MetricsEndpoint(std::shared_ptr<State> state, uint16_t port)
    : state_(std::move(state)), port_(port) {}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::Close() {
  asio::error_code ec;
  state_->acceptor.close(ec);
}

}  // namespace vox
