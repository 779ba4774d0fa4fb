// The wire protocol's operations at run time, for voxctl: the members of
// `union Op` in schema/voxdb.fbs, read by FlatBuffers reflection from the
// binary schema embedded at build time, and operations built from
// `field=value` words (docs/voxctl.md). Nothing here names an operation: an
// operation added to the schema works as soon as voxctl is rebuilt.
//
//   const OpInfo* op = WireSchema::Get().FindOp("join_room");
//   absl::StatusOr<OpRequest> req = ParseOpArgs(*op, {"room_id=...", "user_id=..."});
//   client.SendRaw([&](rpc::Builder& b) { return req->Encode(b); });
//
// Thread-safe: the schema is immutable once loaded.
#ifndef VOXDB_TOOLS_VOXCTL_SCHEMA_H_
#define VOXDB_TOOLS_VOXCTL_SCHEMA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "net/rpc.h"

namespace reflection {
struct Schema;
struct Object;
struct Field;
}  // namespace reflection

namespace vox::voxctl {

// One operation a client may send.
struct OpInfo {
  std::string name;  // as in the schema: "JoinRoom"
  uint8_t type = 0;  // its wire::Op value
  const reflection::Object* table = nullptr;
};

class WireSchema {
 public:
  // The embedded schema, verified on first use.
  static const WireSchema& Get();

  const reflection::Schema& schema() const { return *schema_; }
  // Every member of union Op but Hello (the client's handshake), in schema order.
  const std::vector<OpInfo>& ops() const { return ops_; }
  // By name, ignoring case and underscores: JoinRoom, join_room, joinroom.
  const OpInfo* FindOp(std::string_view name) const;
  // A table or struct by its unqualified name ("Response"), or nullptr.
  const reflection::Object* FindObject(std::string_view name) const;

 private:
  WireSchema();
  const reflection::Schema* schema_ = nullptr;
  std::vector<OpInfo> ops_;
};

// A table's fields in declaration order, less deprecated fields and union
// type tags.
std::vector<const reflection::Field*> FieldsInOrder(const reflection::Object& object);
// A field's type as users read it: uuid, string, [string], timestamp, int,
// RoomSettings, [FieldValue], an enum's name.
std::string TypeName(const reflection::Field& field);
// A struct of two ulongs `hi` and `lo`: printed and parsed as uuid text.
bool IsUuidStruct(const reflection::Object& object);
// A long that holds microseconds since the epoch, known by its name
// (`*_at`, `until`, `scheduled_start` ...): printed as RFC 3339.
bool IsTimestampField(const reflection::Field& field);
// Lower case, without underscores or dashes: how names are matched.
std::string NormalizeName(std::string_view name);

// An operation checked against the schema, ready to encode. Move-only.
class OpRequest {
 public:
  struct Node;
  OpRequest(const OpInfo& op, std::unique_ptr<Node> root);
  OpRequest(OpRequest&&) noexcept;
  OpRequest& operator=(OpRequest&&) noexcept;
  ~OpRequest();

  const OpInfo& op() const { return *op_; }
  // Adds the operation's table to `builder`, for Client::SendRaw.
  rpc::Encoded Encode(rpc::Builder& builder) const;

 private:
  const OpInfo* op_;
  std::unique_ptr<Node> root_;
};

// Builds `op` from `FIELD=VALUE` words (docs/voxctl.md: nested tables as
// `settings.title=x`, lists as `tags=a,b`, generic values as
// `values.bio=hello`). InvalidArgument names the field, the type it expects
// and what is wrong; the value of a secret field (password, token) is never
// repeated.
absl::StatusOr<OpRequest> ParseOpArgs(const OpInfo& op, const std::vector<std::string>& args);

// `voxctl help OP`: every field, its type and how to give it.
std::string DescribeOp(const OpInfo& op);
// `voxctl ops`: one line per operation with its fields and types.
std::string ListOps();
// What `FIELD=` may start with for `op` (shell completion).
std::vector<std::string> FieldPaths(const OpInfo& op);

// Whether the field or column named `name` holds a secret (a password or a
// token): its value is never printed or kept in the shell's history.
bool IsSecretName(std::string_view name);

}  // namespace vox::voxctl

#endif  // VOXDB_TOOLS_VOXCTL_SCHEMA_H_
