#include "herd/gui/span_column.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace herd::gui {

namespace {

constexpr std::size_t kBuffer = std::size_t{1} << 20;

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

SpillFile::SpillFile(const std::filesystem::path& dir) : buffer_(kBuffer) {
  const std::filesystem::path where = dir.empty() ? std::filesystem::temp_directory_path() : dir;
  std::string name = (where / "herd-gui-spans-XXXXXX").string();
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) fail("cannot make a temporary file in " + where.string() + " for the step's spans");
  ::unlink(name.c_str());  // the space goes with the last descriptor or mapping
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

void SpillFile::write_through(const void* data, std::size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write the step's spans to a temporary file");
    }
    p += n;
    bytes -= static_cast<std::size_t>(n);
    written_ += static_cast<std::size_t>(n);
  }
}

void SpillFile::flush() {
  const std::size_t used = used_;
  used_ = 0;
  write_through(buffer_.data(), used);
}

std::shared_ptr<const void> SpillFile::map() {
  flush();
  buffer_ = {};
  const std::size_t size = written_;
  std::shared_ptr<const void> out;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) fail("cannot map the step's spans from their temporary file");
    out = std::shared_ptr<const void>(p, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
  }
  ::close(fd_);
  fd_ = -1;
  return out;
}

}  // namespace herd::gui
