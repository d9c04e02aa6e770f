#include "core/error.h"

namespace vg {

Error::Error(std::string component, std::string message)
    : std::runtime_error("[" + component + "] " + message),
      component_(std::move(component)),
      message_(std::move(message)) {}

void throw_internal(const char* condition, const char* file, int line) {
  throw Error("internal", str("invariant '", condition, "' failed at ", file, ":", line,
                              " (this is a bug in videogemma; please report it)"));
}

}  // namespace vg
