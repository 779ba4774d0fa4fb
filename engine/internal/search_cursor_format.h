// The search cursor (engine/ops/search.h): where a page stopped, as an
// opaque string handed to the client and back. Private to engine/.
//
// Bytes, little-endian, then base64url without padding:
//
//   | version 1 | kind 1 | sort 1 | s_len 1 | v0 8 | v1 8 | row 4 | s s_len | check 4 |
//
//   kind    which search (internal::SearchKind)
//   sort    that search's sort enum value
//   v0, v1  the last row's integer sort values (0 when the sort has fewer)
//   s       its string sort value (a username), at most 255 bytes
//   row     its row id: the final tie-break
//   check   low 32 bits of XXH3-64 (seed kCursorSeed) of every byte before it,
//           so that a mangled or made-up cursor is refused, not misread
#ifndef VOXDB_ENGINE_INTERNAL_SEARCH_CURSOR_FORMAT_H_
#define VOXDB_ENGINE_INTERNAL_SEARCH_CURSOR_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace vox::internal {

inline constexpr uint8_t kCursorVersion = 1;
inline constexpr size_t kCursorHeaderSize = 1 + 1 + 1 + 1 + 8 + 8 + 4;
inline constexpr size_t kCursorCheckSize = 4;
inline constexpr size_t kCursorMaxString = 255;
inline constexpr uint64_t kCursorSeed = 0x766f78637572ULL;  // "voxcur"
static_assert(kCursorHeaderSize == 24);

}  // namespace vox::internal

#endif  // VOXDB_ENGINE_INTERNAL_SEARCH_CURSOR_FORMAT_H_
