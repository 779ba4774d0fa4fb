#include "index/ordered_index.h"

namespace vox {

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
