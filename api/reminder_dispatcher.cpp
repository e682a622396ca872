#include "api/reminder_dispatcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include "api/log.h"
#include "api/webhook_client.h"

namespace encore::api {

namespace {

// Thrown inside loop() to skip a poll while the ledger's durability is lost.
struct durability_paused {};

constexpr std::size_t batch_size = 64;

std::chrono::milliseconds env_ms(const EnvLookup& env, const char* name,
                                 std::chrono::milliseconds fallback) {
  auto v = env(name);
  if (!v || v->empty()) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (*end != '\0' || n < 1) return fallback;
  return std::chrono::milliseconds{n};
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Appends all lines and fsyncs; an error means none may be counted as delivered.
std::optional<std::string> append_fsync(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return errno_text("open");
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = errno_text("write");
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto e = errno_text("fsync");
    ::close(fd);
    return e;
  }
  if (::close(fd) != 0) return errno_text("close");
  return std::nullopt;
}

double jitter_unit() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Error stopping_error() {
  return make_error(ErrorCode::overloaded, "", "the server is stopping; run the reminders again");
}

// A Planned callback is called once; what it throws is logged, never retried.
void answer(const ReminderDispatcher::Planned& done, const ReminderRunResult* result,
            const Error* error) {
  try {
    done(result, error);
  } catch (const std::exception& e) {
    log_error("reminder run callback failed", {{"error", e.what()}});
  }
}

void answer(const ReminderDispatcher::Planned& done, const ReminderRunResult* result,
            const Error& error) {
  answer(done, result, &error);
}

}  // namespace

DispatcherOptions dispatcher_options(const EnvLookup& env) {
  DispatcherOptions o;
  o.retry_base = env_ms(env, "ENCORE_REMINDER_RETRY_BASE_MS", o.retry_base);
  o.retry_cap = env_ms(env, "ENCORE_REMINDER_RETRY_CAP_MS", o.retry_cap);
  if (auto s = env("ENCORE_REMINDER_SCHEDULE"); s && *s == "off") o.schedule = false;
  if (auto rows = env("ENCORE_REMINDER_CHUNK_ROWS"); rows && !rows->empty()) {
    char* end = nullptr;
    const long long n = std::strtoll(rows->c_str(), &end, 10);
    if (*end == '\0' && n >= 1 && n <= 1'000'000)
      o.rows_per_transaction = static_cast<std::size_t>(n);
  }
  return o;
}

ReminderDispatcher::ReminderDispatcher(Ledger& ledger, DispatcherOptions options)
    : ledger_(ledger), options_(options), thread_([this] { loop(); }) {}

ReminderDispatcher::~ReminderDispatcher() {
  stop();
}

void ReminderDispatcher::run_now(Planned done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      requests_.push_back(std::move(done));
      wake_.notify_all();
      return;
    }
  }
  answer(done, nullptr, stopping_error());
}

void ReminderDispatcher::request_stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

void ReminderDispatcher::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
  answer_queued();
}

void ReminderDispatcher::answer_queued() {
  std::deque<Planned> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(requests_);
  }
  for (auto& done : left) answer(done, nullptr, stopping_error());
}

bool ReminderDispatcher::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

ReminderRunResult ReminderDispatcher::plan() {
  ReminderRunOptions run;
  run.rows_per_transaction = options_.rows_per_transaction;
  run.after_each_transaction = options_.after_run_chunk;
  run.keep_going = [this] { return !stopping(); };
  auto result = run_reminder_planning(ledger_, run);
  if (!result.complete) {
    log_info("reminder run stopped for shutdown; the next run completes it",
             {{"planned", result.planned.size()}, {"run_date", result.run_date}});
  }
  return result;
}

void ReminderDispatcher::run_requested(const Planned& done) {
  if (stopping()) return answer(done, nullptr, stopping_error());
  std::optional<ReminderRunResult> result;
  std::optional<Error> error;
  try {
    result = plan();
    if (!result->complete) {
      error = make_error(ErrorCode::overloaded, "",
                         "the server is stopping: the run planned " +
                             std::to_string(result->planned.size()) +
                             " reminders, and the next run completes it");
    } else {
      log_info("reminders planned", {{"planned", result->planned.size()}, {"on_demand", true}});
    }
  } catch (const std::exception& e) {
    error = make_error(ErrorCode::internal, "", e.what());
  } catch (...) {
    error = make_error(ErrorCode::internal, "", "the run failed");
  }
  answer(done, error ? nullptr : &*result, error ? &*error : nullptr);
}

void ReminderDispatcher::loop() {
  for (;;) {
    {
      std::deque<Planned> requests;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
        requests.swap(requests_);
      }
      // Each answered and released here: a callback holds its connection's session.
      for (auto& done : requests) run_requested(done);
    }
    try {
      // After a storage failure (logged once by the server) nothing can be recorded: a delivery
      // would be sent again at every poll, its record never written (Ledger::durability_lost).
      if (ledger_.durability_lost()) throw durability_paused{};
      if (options_.schedule && !stopping() && reminder_run_due(ledger_, ledger_.clock().now())) {
        auto result = plan();
        if (result.complete) {
          log_info("reminders planned",
                   {{"planned", result.planned.size()}, {"run_date", result.run_date}});
        }
      }
      deliver_due();
    } catch (const durability_paused&) {
      // Nothing planned or delivered until the server restarts.
    } catch (const std::exception& e) {
      log_error("reminder dispatcher", {{"error", e.what()}});
    }
    std::unique_lock lock(mutex_);
    if (stopping_) break;
    if (!requests_.empty()) continue;
    wake_.wait_for(lock, options_.poll);
  }
  // Requests that arrived while the thread was busy are answered now, during the server's drain,
  // not after it.
  answer_queued();
}

void ReminderDispatcher::deliver_due() {
  const auto& config = *ledger_.program().reminders;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    std::vector<ReminderRow> due;
    ledger_.with_reader(
        [&](Store& s) { due = s.reminders().due_reminders(ledger_.clock().now(), batch_size); });
    if (due.empty()) return;
    if (const auto* file = std::get_if<FileSink>(&config.sink)) {
      deliver_file(*file, due);
    } else if (const auto* hook = std::get_if<WebhookSink>(&config.sink)) {
      for (const auto& row : due) {
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
        }
        deliver_webhook(*hook, row);
      }
    } else {
      return;  // no sink configured: reminders wait in the outbox
    }
  }
}

void ReminderDispatcher::deliver_file(const FileSink& sink, const std::vector<ReminderRow>& due) {
  std::filesystem::path path(sink.path);
  if (path.is_relative()) path = std::filesystem::path(ledger_.path()).parent_path() / path;
  std::string lines;
  for (const auto& row : due) lines += reminder_json(row).dump() + "\n";
  if (auto error = append_fsync(path.string(), lines)) {
    log_warn("reminder file sink failed", {{"path", path.string()}, {"error", *error}});
    for (const auto& row : due) record_failure(row, 1'000'000, *error);
    return;
  }
  const auto now = ledger_.clock().now();
  ledger_.write_batch([&](Writer& w) {
    for (const auto& row : due) {
      w.store().reminders().mark_reminder_delivered(row.id, row.attempts + 1, now);
    }
  });
}

void ReminderDispatcher::deliver_webhook(const WebhookSink& sink, const ReminderRow& row) {
  const char* secret = std::getenv(sink.secret_env.c_str());
  if (secret == nullptr || *secret == '\0') {
    record_failure(row, sink.max_attempts, "environment variable " + sink.secret_env + " unset");
    return;
  }
  WebhookRequest request;
  request.url = sink.url;
  request.ca_file = sink.ca_file;
  request.body = reminder_json(row).dump();
  request.reminder_id = row.reminder_id;
  request.timeout = std::chrono::seconds{sink.timeout_seconds};
  const auto t = std::chrono::system_clock::now();
  request.signature = webhook_signature(
      secret, std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(),
      request.body);
  auto result = post_webhook(request);
  if (!result.ok()) {
    record_failure(row, sink.max_attempts, result.error);
    return;
  }
  const auto now = ledger_.clock().now();
  ledger_.write_batch([&](Writer& w) {
    w.store().reminders().mark_reminder_delivered(row.id, row.attempts + 1, now);
  });
}

void ReminderDispatcher::record_failure(const ReminderRow& row, int max_attempts,
                                        const std::string& error) {
  const int attempts = row.attempts + 1;
  const bool dead = attempts >= max_attempts;
  auto delay = retry_delay(attempts, options_.retry_base, options_.retry_cap, jitter_unit());
  // The outbox keeps seconds: round the delay up.
  const auto next = ledger_.clock().now() + std::chrono::ceil<std::chrono::seconds>(delay);
  if (dead) {
    log_warn("reminder dead-lettered", {{"reminder_id", row.reminder_id}, {"error", error}});
  } else {
    log_info("reminder delivery failed",
             {{"reminder_id", row.reminder_id}, {"attempts", attempts}, {"error", error}});
  }
  ledger_.write_batch([&](Writer& w) {
    w.store().reminders().mark_reminder_attempt_failed(row.id, attempts, dead, next, error);
  });
}

}  // namespace encore::api
