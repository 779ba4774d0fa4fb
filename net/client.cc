#include "net/client.h"

#include <poll.h>

#include <asio.hpp>

#include "net/server.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox {

namespace fb = flatbuffers;
using asio::ip::tcp;

struct Client::Socket {
  asio::io_context io;
  tcp::socket socket{io};
};

namespace {

wire::Uuid W(const Uuid& u) { return wire::Uuid(u.hi, u.lo); }
Uuid U(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }
std::string S(const fb::String* s) { return s == nullptr ? std::string() : s->str(); }

template <typename T>
std::vector<uint8_t> Frame(fb::FlatBufferBuilder& fbb, uint64_t id, wire::Op type, fb::Offset<T> op,
                           bool read_unsynced) {
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(type);
  rb.add_op(op.Union());
  rb.add_read_unsynced(read_unsynced);
  fbb.FinishSizePrefixed(rb.Finish());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

absl::StatusOr<const wire::Response*> Parse(const std::vector<uint8_t>& frame) {
  const auto* r = fb::GetSizePrefixedRoot<wire::Response>(frame.data());  // verified on receipt
  if (r->code() != wire::StatusCode::OK) {
    return absl::Status(static_cast<absl::StatusCode>(r->code()), S(r->message()));
  }
  return r;
}

}  // namespace

// Builds one request and checks its response's result type.
class Client::Call {
 public:
  explicit Call(Client& c) : client_(c), id_(c.next_id_++) {}
  fb::FlatBufferBuilder& fbb() { return fbb_; }

  template <typename T>
  absl::StatusOr<const wire::Response*> Send(wire::Op type, fb::Offset<T> op, wire::Result expect) {
    auto frame = client_.RoundTrip(Frame(fbb_, id_, type, op, client_.options_.read_unsynced), id_);
    if (!frame.ok()) return frame.status();
    response_ = std::move(*frame);
    auto r = Parse(response_);
    if (!r.ok()) return r.status();
    if ((*r)->result_type() != expect) {
      return absl::InternalError("the server answered with an unexpected result type");
    }
    return r;
  }

 private:
  Client& client_;
  uint64_t id_;
  fb::FlatBufferBuilder fbb_{256};
  std::vector<uint8_t> response_;
};

Client::~Client() = default;

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  std::unique_ptr<Client> c(new Client);
  c->options_ = options;
  VOX_RETURN_IF_ERROR(c->Open());
  return c;
}

absl::Status Client::Open() {
  socket_ = std::make_unique<Socket>();
  asio::error_code ec;
  tcp::resolver resolver(socket_->io);
  auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port), ec);
  if (!ec) asio::connect(socket_->socket, endpoints, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot connect to ", options_.host, ":", options_.port, ": ", ec.message()));
  }
  socket_->socket.set_option(tcp::no_delay(true));
  fb::FlatBufferBuilder fbb(128);
  const uint64_t id = next_id_++;
  auto hello = wire::CreateHello(fbb, kProtocolVersion, fbb.CreateString(options_.token),
                                 fbb.CreateString("voxdb-cpp-client"));
  auto frame = RoundTrip(Frame(fbb, id, wire::Op::Hello, hello, false), id);
  if (!frame.ok()) return frame.status();
  auto r = Parse(*frame);
  if (!r.ok()) return r.status();
  const auto* result = (*r)->result_as_HelloResult();
  if (result == nullptr) return absl::InternalError("the server's Hello answer is not HelloResult");
  role_ = S(result->role());
  server_version_ = S(result->server_version());
  database_id_ = U(result->database_id());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> Client::RoundTrip(std::vector<uint8_t> request, uint64_t id) {
  // One blocking exchange, bounded by the timeout.
  asio::error_code ec;
  asio::write(socket_->socket, asio::buffer(request), ec);
  if (ec) return absl::UnavailableError(StrCat("send failed: ", ec.message()));
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  std::vector<uint8_t> frame;
  while (true) {
    uint8_t header[4];
    size_t got = 0;
    socket_->socket.non_blocking(true);
    auto read_some = [&](uint8_t* to, size_t n) -> absl::Status {
      size_t done = 0;
      while (done < n) {
        const size_t r = socket_->socket.read_some(asio::buffer(to + done, n - done), ec);
        if (ec == asio::error::would_block) {
          // Wait for bytes (or the deadline) without spinning.
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          if (left.count() <= 0) {
            return absl::DeadlineExceededError("the server did not answer in time");
          }
          pollfd p{socket_->socket.native_handle(), POLLIN, 0};
          ::poll(&p, 1, static_cast<int>(left.count()));
          continue;
        }
        if (ec) return absl::UnavailableError(StrCat("connection lost: ", ec.message()));
        done += r;
      }
      return absl::OkStatus();
    };
    VOX_RETURN_IF_ERROR(read_some(header, 4));
    (void)got;
    uint32_t length;
    std::memcpy(&length, header, 4);
    if (length > (64u << 20)) return absl::DataLossError("the server sent an oversized frame");
    frame.resize(4 + size_t{length});  // keep the prefix: alignment is relative to it
    std::memcpy(frame.data(), header, 4);
    VOX_RETURN_IF_ERROR(read_some(frame.data() + 4, length));
    fb::Verifier v(frame.data(), frame.size());
    if (!v.VerifySizePrefixedBuffer<wire::Response>(nullptr)) {
      return absl::DataLossError("the server sent a malformed response");
    }
    const auto* r = fb::GetSizePrefixedRoot<wire::Response>(frame.data());
    if (r->id() == id || r->id() == 0) return frame;  // 0: a connection-level error
  }
}

absl::StatusOr<Registered> Client::RegisterUser(std::string_view username, std::string_view email,
                                                std::string_view password_hash,
                                                std::string_view display_name) {
  Call call(*this);
  auto& f = call.fbb();
  auto op = wire::CreateRegisterUser(f, f.CreateString(username), f.CreateString(email),
                                     f.CreateString(password_hash), f.CreateString(display_name));
  VOX_ASSIGN_OR_RETURN(auto r,
                       call.Send(wire::Op::RegisterUser, op, wire::Result::RegisterUserResult));
  const auto* x = r->result_as_RegisterUserResult();
  return Registered{U(x->user_id()), U(x->auth_provider_id()), U(x->wallet_id())};
}

absl::StatusOr<OpenedRoom> Client::CreateAndOpenRoom(const Uuid& owner, std::string_view title,
                                                     std::string_view room_code,
                                                     int32_t max_participants,
                                                     std::span<const std::string> tags) {
  Call call(*this);
  auto& f = call.fbb();
  const auto o = W(owner);
  std::vector<fb::Offset<fb::String>> t;
  for (const auto& tag : tags) t.push_back(f.CreateString(tag));
  auto op = wire::CreateCreateAndOpenRoom(f, &o, f.CreateString(room_code), f.CreateString(title),
                                          max_participants, true, f.CreateVector(t));
  VOX_ASSIGN_OR_RETURN(auto r,
                       call.Send(wire::Op::CreateAndOpenRoom, op, wire::Result::CreateRoomResult));
  const auto* x = r->result_as_CreateRoomResult();
  return OpenedRoom{U(x->room_id()), U(x->host_participant_id()), S(x->room_code())};
}

absl::StatusOr<Joined> Client::JoinRoom(const Uuid& room, const Uuid& user) {
  Call call(*this);
  const auto r_ = W(room), u_ = W(user);
  auto op = wire::CreateJoinRoom(call.fbb(), &r_, &u_);
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::JoinRoom, op, wire::Result::JoinRoomResult));
  const auto* x = r->result_as_JoinRoomResult();
  return Joined{U(x->participant_id()), S(x->role()), x->muted(), x->room_started()};
}

absl::Status Client::LeaveRoom(const Uuid& room, const Uuid& user) {
  Call call(*this);
  const auto r_ = W(room), u_ = W(user);
  return call
      .Send(wire::Op::LeaveRoom, wire::CreateLeaveRoom(call.fbb(), &r_, &u_), wire::Result::Empty)
      .status();
}

absl::Status Client::SetMuted(const Uuid& room, const Uuid& actor, const Uuid& target, bool m) {
  Call call(*this);
  const auto r_ = W(room), a = W(actor), t = W(target);
  return call
      .Send(wire::Op::SetMuted, wire::CreateSetMuted(call.fbb(), &r_, &a, &t, m),
            wire::Result::Empty)
      .status();
}

absl::Status Client::SetHandRaised(const Uuid& room, const Uuid& actor, const Uuid& target,
                                   bool raised) {
  Call call(*this);
  const auto r_ = W(room), a = W(actor), t = W(target);
  return call
      .Send(wire::Op::SetHandRaised, wire::CreateSetHandRaised(call.fbb(), &r_, &a, &t, raised),
            wire::Result::Empty)
      .status();
}

absl::Status Client::EndRoom(const Uuid& room, const Uuid& actor) {
  Call call(*this);
  const auto r_ = W(room), a = W(actor);
  return call.Send(wire::Op::EndRoom, wire::CreateEndRoom(call.fbb(), &r_, &a), wire::Result::Empty)
      .status();
}

absl::StatusOr<Transfer> Client::TopUp(const Uuid& user, int64_t amount,
                                       std::string_view idempotency_key) {
  Call call(*this);
  const auto u = W(user);
  auto op = wire::CreateTopUp(call.fbb(), &u, amount, call.fbb().CreateString(idempotency_key));
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::TopUp, op, wire::Result::TransferResult));
  const auto* x = r->result_as_TransferResult();
  return Transfer{U(x->transfer_id()), x->fee(), x->already_done()};
}

absl::StatusOr<Transfer> Client::Gift(const Uuid& sender, const Uuid& receiver, int64_t amount,
                                      std::string_view idempotency_key) {
  Call call(*this);
  const auto s = W(sender), r_ = W(receiver);
  auto op = wire::CreateGift(call.fbb(), &s, &r_, amount, nullptr,
                             call.fbb().CreateString(idempotency_key));
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::Gift, op, wire::Result::TransferResult));
  const auto* x = r->result_as_TransferResult();
  return Transfer{U(x->transfer_id()), x->fee(), x->already_done()};
}

absl::StatusOr<std::string> Client::UserByEmail(std::string_view email) {
  Call call(*this);
  auto op = wire::CreateUserByEmail(call.fbb(), call.fbb().CreateString(email));
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::UserByEmail, op, wire::Result::RowsResult));
  const auto* rows = r->result_as_RowsResult()->rows();
  if (rows == nullptr || rows->size() != 1) return absl::InternalError("expected one row");
  return rows->Get(0)->str();
}

absl::StatusOr<std::vector<PresentParticipant>> Client::PresentParticipants(const Uuid& room) {
  Call call(*this);
  const auto r_ = W(room);
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::PresentParticipants,
                                         wire::CreatePresentParticipants(call.fbb(), &r_),
                                         wire::Result::ParticipantsResult));
  std::vector<PresentParticipant> out;
  const auto* list = r->result_as_ParticipantsResult()->participants();
  if (list != nullptr) {
    for (const auto* p : *list) {
      out.push_back({U(p->participant_id()), U(p->user_id()), S(p->role()), p->muted(),
                     p->hand_raised(), p->speaking(), p->joined_at()});
    }
  }
  return out;
}

absl::StatusOr<RowsPage> Client::RoomAuditTrail(const Uuid& room, uint32_t limit,
                                                std::optional<Uuid> after) {
  Call call(*this);
  const auto r_ = W(room), a = W(after.value_or(Uuid{}));
  auto op = wire::CreateRoomAuditTrail(call.fbb(), &r_, limit, after ? &a : nullptr);
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::RoomAuditTrail, op, wire::Result::RowsResult));
  RowsPage page;
  const auto* x = r->result_as_RowsResult();
  if (x->rows() != nullptr) {
    for (const auto* s : *x->rows()) page.rows.push_back(s->str());
  }
  if (x->next() != nullptr) page.next = U(x->next());
  return page;
}

absl::StatusOr<bool> Client::IsBanned(const Uuid& room, const Uuid& user) {
  Call call(*this);
  const auto r_ = W(room), u = W(user);
  VOX_ASSIGN_OR_RETURN(auto r,
                       call.Send(wire::Op::IsBanned, wire::CreateIsBanned(call.fbb(), &r_, &u),
                                 wire::Result::BoolResult));
  return r->result_as_BoolResult()->value();
}

absl::StatusOr<std::string> Client::GetRow(std::string_view table, const Uuid& id) {
  Call call(*this);
  const auto i = W(id);
  auto op = wire::CreateGetRow(call.fbb(), call.fbb().CreateString(table), &i);
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::GetRow, op, wire::Result::RowsResult));
  return r->result_as_RowsResult()->rows()->Get(0)->str();
}

namespace {

fb::Offset<fb::Vector<fb::Offset<wire::FieldValue>>> Fields(fb::FlatBufferBuilder& f,
                                                            const std::vector<Field>& values) {
  std::vector<fb::Offset<wire::FieldValue>> out;
  for (const Field& v : values) {
    const auto u = W(v.uuid_value);
    out.push_back(wire::CreateFieldValue(
        f, f.CreateString(v.column), static_cast<wire::ValueKind>(v.kind), v.int_value,
        v.kind == Field::Kind::kString ? f.CreateString(v.string_value) : 0,
        v.kind == Field::Kind::kUuid ? &u : nullptr));
  }
  return f.CreateVector(out);
}

}  // namespace

absl::StatusOr<Uuid> Client::InsertRow(std::string_view table, const std::vector<Field>& values) {
  Call call(*this);
  auto& f = call.fbb();
  auto fields = Fields(f, values);
  auto op = wire::CreateInsertRow(f, f.CreateString(table), fields);
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::InsertRow, op, wire::Result::IdResult));
  return U(r->result_as_IdResult()->id());
}

absl::Status Client::UpdateRow(std::string_view table, const Uuid& id,
                               const std::vector<Field>& values) {
  Call call(*this);
  auto& f = call.fbb();
  auto fields = Fields(f, values);
  const auto i = W(id);
  auto op = wire::CreateUpdateRow(f, f.CreateString(table), &i, fields);
  return call.Send(wire::Op::UpdateRow, op, wire::Result::Empty).status();
}

absl::Status Client::DeleteRow(std::string_view table, const Uuid& id) {
  Call call(*this);
  const auto i = W(id);
  auto op = wire::CreateDeleteRow(call.fbb(), call.fbb().CreateString(table), &i);
  return call.Send(wire::Op::DeleteRow, op, wire::Result::Empty).status();
}

absl::StatusOr<ServerStats> Client::Stats() {
  Call call(*this);
  VOX_ASSIGN_OR_RETURN(
      auto r, call.Send(wire::Op::Stats, wire::CreateStats(call.fbb()), wire::Result::StatsResult));
  const auto* x = r->result_as_StatsResult();
  ServerStats s{x->commits(), x->durable_lsn(), S(x->durability()), {}};
  if (x->tables() != nullptr) {
    for (const auto* t : *x->tables()) s.rows_per_table.emplace_back(S(t->name()), t->rows());
  }
  return s;
}

absl::StatusOr<std::string> Client::Checkpoint() {
  Call call(*this);
  VOX_ASSIGN_OR_RETURN(auto r, call.Send(wire::Op::Checkpoint, wire::CreateCheckpoint(call.fbb()),
                                         wire::Result::CheckpointResult));
  return S(r->result_as_CheckpointResult()->path());
}

}  // namespace vox
