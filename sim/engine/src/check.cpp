#include "herd/engine/check.hpp"

#include <cstdio>
#include <cstdlib>

namespace herd::engine {

void invariant_failure(std::string_view message) noexcept {
  // stdio rather than iostreams: this runs in a process about to die and must not allocate
  // more than it has to, nor depend on stream state a caller may have changed.
  std::fprintf(stderr, "herd::engine invariant violated: %.*s\n", static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace herd::engine
