// Leveled logging to stderr (or a user sink). Level from VG_LOG=error|warn|info|debug or set_level().
#pragma once

#include <functional>
#include <string>

#include "core/error.h"

namespace vg::logging {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3 };

Level level();
void set_level(Level level);
Level parse_level(const std::string& name);  // throws vg::Error on an unknown name

// Replaces the stderr writer, e.g. to capture messages in tests. Pass {} to restore it.
using Sink = std::function<void(Level, const std::string&)>;
void set_sink(Sink sink);

void write(Level level, const std::string& message);

inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

template <class... Args>
void error(const Args&... args) {
  if (enabled(Level::Error)) write(Level::Error, str(args...));
}
template <class... Args>
void warn(const Args&... args) {
  if (enabled(Level::Warn)) write(Level::Warn, str(args...));
}
template <class... Args>
void info(const Args&... args) {
  if (enabled(Level::Info)) write(Level::Info, str(args...));
}
template <class... Args>
void debug(const Args&... args) {
  if (enabled(Level::Debug)) write(Level::Debug, str(args...));
}

}  // namespace vg::logging
