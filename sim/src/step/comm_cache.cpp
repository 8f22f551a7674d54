// The cache of prepared network operations: by rank layout (most recent first), then by operation.
#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <type_traits>

#include "comm_keys.hpp"

namespace herd::sim {

using detail::LayoutKey;
using detail::NetKey;

class CommCache::Store {
 public:
  explicit Store(std::size_t layouts) : capacity_(std::max<std::size_t>(1, layouts)) {}

  template <class Value, class K>
  std::shared_ptr<const Value> find(const LayoutKey& layout, const K& key) {
    const std::lock_guard lock(mutex_);
    const auto it = touch(layout);
    if (it == lru_.end()) return nullptr;
    auto& map = maps<Value>(*it);
    const auto found = map.find(key);
    if (found == map.end()) return nullptr;
    ++hits_;
    return found->second;
  }
  template <class Value, class K>
  std::shared_ptr<const Value> insert(const LayoutKey& layout, const K& key, std::shared_ptr<const Value> value) {
    const std::lock_guard lock(mutex_);
    ++misses_;
    auto it = touch(layout);
    if (it == lru_.end()) {
      lru_.emplace_front();
      lru_.front().key = layout;
      if (lru_.size() > capacity_) lru_.pop_back();
      it = lru_.begin();
    }
    return maps<Value>(*it).emplace(key, std::move(value)).first->second;
  }
  std::uint64_t hits() const {
    const std::lock_guard lock(mutex_);
    return hits_;
  }
  std::uint64_t misses() const {
    const std::lock_guard lock(mutex_);
    return misses_;
  }

 private:
  struct Layout {
    LayoutKey key;
    std::map<NetKey, std::shared_ptr<const PreparedBlock>> blocks;
    std::map<std::vector<NetKey>, std::shared_ptr<const ContendedNetwork>> networks;
  };
  using Layouts = std::list<Layout>;
  template <class Value>
  static auto& maps(Layout& l) {
    if constexpr (std::is_same_v<Value, PreparedBlock>) return l.blocks;
    else return l.networks;
  }
  // Moves the layout to the front (most recently used); end() when absent.
  Layouts::iterator touch(const LayoutKey& key) {
    const auto it = std::find_if(lru_.begin(), lru_.end(), [&](const Layout& l) { return l.key == key; });
    if (it != lru_.end() && it != lru_.begin()) lru_.splice(lru_.begin(), lru_, it);
    return it == lru_.end() ? it : lru_.begin();
  }

  mutable std::mutex mutex_;
  std::size_t capacity_;
  Layouts lru_;
  std::uint64_t hits_ = 0, misses_ = 0;
};

CommCache::CommCache(std::size_t layouts) : store_(std::make_unique<Store>(layouts)) {}
CommCache::~CommCache() = default;

std::shared_ptr<const PreparedBlock> CommCache::block(const Key& key, const std::function<PreparedBlock()>& make) {
  if (auto found = store_->find<PreparedBlock>(key.layout, key.net)) return found;
  return store_->insert(key.layout, key.net, std::make_shared<const PreparedBlock>(make()));
}
std::shared_ptr<const ContendedNetwork> CommCache::network(const NetworkKey& key,
                                                           const std::function<ContendedNetwork()>& make) {
  if (auto found = store_->find<ContendedNetwork>(key.layout, key.ops)) return found;
  return store_->insert(key.layout, key.ops, std::make_shared<const ContendedNetwork>(make()));
}
std::uint64_t CommCache::hits() const { return store_->hits(); }
std::uint64_t CommCache::misses() const { return store_->misses(); }

}  // namespace herd::sim
