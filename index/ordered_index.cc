#include "index/ordered_index.h"

namespace vox {

KeyPacker& KeyPacker::AddUnsigned(uint64_t value, int bits, bool descending) {
  VOX_DCHECK(bits > 0 && bits <= 64 && used_ + bits <= 96);
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : ((uint64_t{1} << bits) - 1);
  value &= mask;
  if (descending) value = ~value & mask;
  used_ += bits;
  key_ |= IndexKey(value) << (128 - used_);
  return *this;
}

KeyPacker& KeyPacker::AddSigned(int64_t value, int bits, bool descending) {
  // Flip the sign bit of the `bits`-wide two's complement value.
  const uint64_t sign = uint64_t{1} << (bits - 1);
  return AddUnsigned(static_cast<uint64_t>(value) ^ sign, bits, descending);
}

IndexKey KeyPacker::High() const {
  // All bits below the used prefix set.
  const IndexKey below = used_ == 0 ? ~IndexKey(0) : ((IndexKey(1) << (128 - used_)) - 1);
  return key_ | below;
}

size_t OrderedIndex::MemoryBytes() const {
  // absl::btree nodes are ~256 bytes holding up to (256-16)/16 keys; nodes are
  // on average about 3/4 full after random inserts.
  constexpr size_t kKeysPerNode = (256 - 16) / sizeof(IndexKey);
  const size_t nodes = set_.size() * 4 / (kKeysPerNode * 3) + 1;
  return nodes * 256;
}

}  // namespace vox
