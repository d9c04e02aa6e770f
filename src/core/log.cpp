#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace vg::logging {
namespace {

Level initial_level() {
  const char* env = std::getenv("VG_LOG");
  if (env == nullptr || *env == '\0') return Level::Info;
  try {
    return parse_level(env);
  } catch (const Error&) {
    std::fprintf(stderr, "[log] ignoring VG_LOG=%s (use error, warn, info or debug)\n", env);
    return Level::Info;
  }
}

std::atomic<int>& level_storage() {
  static std::atomic<int> value{static_cast<int>(initial_level())};
  return value;
}

std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}

Sink& sink_storage() {
  static Sink sink;
  return sink;
}

const char* level_tag(Level level) {
  switch (level) {
    case Level::Error: return "error";
    case Level::Warn: return "warn";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
  }
  return "?";
}

}  // namespace

Level level() { return static_cast<Level>(level_storage().load(std::memory_order_relaxed)); }

void set_level(Level l) { level_storage().store(static_cast<int>(l), std::memory_order_relaxed); }

Level parse_level(const std::string& name) {
  if (name == "error") return Level::Error;
  if (name == "warn" || name == "warning") return Level::Warn;
  if (name == "info") return Level::Info;
  if (name == "debug") return Level::Debug;
  throw Error("log", str("unknown log level '", name, "' (use error, warn, info or debug)"));
}

void set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  sink_storage() = std::move(sink);
}

void write(Level l, const std::string& message) {
  std::lock_guard<std::mutex> lock(sink_mutex());
  if (sink_storage()) {
    sink_storage()(l, message);
    return;
  }
  std::fprintf(stderr, "%s: %s\n", level_tag(l), message.c_str());
}

}  // namespace vg::logging
