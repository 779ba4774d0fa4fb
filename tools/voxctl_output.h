// How voxctl prints a server's answer, for any operation: the Result union
// read by reflection into a Doc (a JSON-like tree), then rendered as an
// aligned table, one JSON document or CSV (docs/voxctl.md, "Output").
//
//   Doc doc = ResultDoc(reply.response());
//   std::fputs(Render(doc, Format::kTable).c_str(), stdout);
//
// Thread-compatible.
#ifndef VOXDB_TOOLS_VOXCTL_OUTPUT_H_
#define VOXDB_TOOLS_VOXCTL_OUTPUT_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vox::wire {
struct Response;
}

namespace vox::voxctl {

// A printed value. Uuids, timestamps (RFC 3339) and enum names are strings.
struct Doc {
  enum class Kind { kNull, kBool, kNumber, kString, kRaw, kObject, kArray };
  Kind kind = Kind::kNull;
  // kBool: "true" or "false"; kNumber: its JSON text; kString: the text;
  // kRaw: a nested JSON value as the server sent it.
  std::string text;
  std::vector<std::pair<std::string, Doc>> fields;  // kObject, in order
  std::vector<Doc> items;                           // kArray
  bool rows = false;  // kArray: rows the server sent as JSON text (RowsResult)

  static Doc Text(std::string s) { return {Kind::kString, std::move(s)}; }
  static Doc Number(std::string s) { return {Kind::kNumber, std::move(s)}; }
  static Doc Bool(bool b) { return {Kind::kBool, b ? "true" : "false"}; }
};

enum class Format { kTable, kJson, kCsv };
// "table", "json" or "csv".
std::optional<Format> ParseFormat(std::string_view name);

// The response's result as an object (an empty one when it has none).
// Rows the server sends as JSON text (RowsResult) become objects.
Doc ResultDoc(const wire::Response& response);

// `doc` (an object) printed; ends with a newline unless empty.
//  table: scalar fields as `field  value` lines, lists of objects as aligned
//         tables (a result of one JSON row as `key  value` lines);
//  json:  one JSON document on one line;
//  csv:   the first list as a header and rows, or, without a list, the
//         fields as one row.
std::string Render(const Doc& doc, Format format);

// A JSON object whose values are scalars (strings with escapes, numbers,
// true, false, null); a nested object or array is kept as its raw text.
// nullopt when `text` is not one JSON object.
std::optional<Doc> ParseFlatJsonObject(std::string_view text);

}  // namespace vox::voxctl

#endif  // VOXDB_TOOLS_VOXCTL_OUTPUT_H_
