#include "herd/model/error.hpp"

namespace herd::model {

namespace {
std::string compose(const std::string& source, const std::string& pointer, const std::string& message) {
  std::string text = source.empty() ? std::string("input") : source;
  text += ": ";
  if (!pointer.empty()) text += pointer + ": ";
  return text + message;
}
}  // namespace

InputError::InputError(std::string source, std::string pointer, std::string message)
    : std::runtime_error(compose(source, pointer, message)),
      source_(std::move(source)), pointer_(std::move(pointer)), message_(std::move(message)) {}

ValueError::ValueError(std::string pointer, std::string message)
    : std::runtime_error(pointer.empty() ? message : pointer + ": " + message),
      pointer_(std::move(pointer)), message_(std::move(message)) {}

}  // namespace herd::model
