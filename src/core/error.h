// Errors: one exception type for the whole library, with "[component] message" text.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace vg {

// Concatenates streamable values: str("shape ", s, " has ", n, " elements").
template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Every error a user can cause (a file, a flag, a shape) is a vg::Error; what() reads
// "[component] message", e.g. "[safetensors] tensor 'w' has dtype F8, which is not supported".
class Error : public std::runtime_error {
 public:
  Error(std::string component, std::string message);

  const std::string& component() const { return component_; }
  const std::string& message() const { return message_; }

 private:
  std::string component_;
  std::string message_;
};

[[noreturn]] void throw_internal(const char* condition, const char* file, int line);

}  // namespace vg

// Checks a condition that user input can violate; throws vg::Error(component, message).
#define VG_CHECK(cond, component, ...)                                   \
  do {                                                                   \
    if (!(cond)) throw ::vg::Error((component), ::vg::str(__VA_ARGS__)); \
  } while (0)

// Checks an invariant of our own code. Never aborts: it throws an "[internal]" error.
#define VG_ASSERT(cond)                                           \
  do {                                                            \
    if (!(cond)) ::vg::throw_internal(#cond, __FILE__, __LINE__); \
  } while (0)
