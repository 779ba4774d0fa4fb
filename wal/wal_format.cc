#include "wal/wal_format.h"

#include <cstdio>

#define XXH_INLINE_ALL
#include "xxhash.h"

namespace vox::wal {

uint64_t Hash(const void* data, size_t n) { return XXH3_64bits(data, n); }

uint64_t DatabaseTag(const Uuid& id) {
  const uint64_t words[2] = {id.hi, id.lo};
  return XXH3_128bits(words, sizeof(words)).low64;
}

void SealRecordHeader(RecordHeader* h, std::string_view payload) {
  h->payload_hash = Hash(payload.data(), payload.size());
  h->header_hash = Hash(reinterpret_cast<const char*>(h) + 8, kRecordHeaderSize - 8);
}

bool RecordHeaderValid(const RecordHeader& h) {
  return h.header_hash == Hash(reinterpret_cast<const char*>(&h) + 8, kRecordHeaderSize - 8);
}

void SealSegmentHeader(SegmentHeader* h) { h->header_hash = Hash(h, kSegmentHeaderSize - 8); }

bool SegmentHeaderValid(const SegmentHeader& h) {
  return std::memcmp(h.magic, kSegmentMagic, sizeof(kSegmentMagic)) == 0 &&
         h.header_hash == Hash(&h, kSegmentHeaderSize - 8);
}

std::string SegmentName(uint64_t first_lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu.wal", static_cast<unsigned long long>(first_lsn));
  return buf;
}

uint64_t ParseSegmentName(std::string_view name) {
  if (name.size() != 24 || name.substr(20) != ".wal") return 0;
  uint64_t v = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace vox::wal
