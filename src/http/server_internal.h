#pragma once
// Private to src/http: the Asio-level pieces shared by server.cc and
// connection.cc. Nothing outside src/http includes this (it pulls in Asio).

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/server.h"

namespace coffer::http::internal {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

// A connection as the worker sees it: a deadline to enforce and a way to
// close it. All methods run on the owning worker's thread.
class ConnBase : public std::enable_shared_from_this<ConnBase> {
 public:
  virtual ~ConnBase() = default;
  virtual void Start() = 0;
  // Closes the socket at once; pending operations complete with an error.
  virtual void CloseNow() = 0;
  // Server shutdown: closes the connection unless a request is being
  // handled or answered, in which case it closes after that response.
  virtual void BeginShutdown() = 0;
  // Closes the connection when it is kept alive and waiting for its next
  // request (nothing of one received); true when it did.
  virtual bool CloseIfIdle() = 0;
  // Whether CloseIfIdle would close it now.
  virtual bool Idle() const = 0;

  SteadyTime deadline() const { return deadline_; }
  std::size_t registry_index = 0;

 protected:
  SteadyTime deadline_ = SteadyTime::max();
};

// `done` callbacks may run on any thread, possibly after Stop(): they post
// to the worker only while `ctx` is non-null (cleared, under `mu`, before the
// io_context is stopped and destroyed).
struct Gate {
  std::mutex mu;
  asio::io_context* ctx = nullptr;
};

// One I/O thread with its own io_context and the connections it owns.
struct Worker {
  explicit Worker(Server::Impl& impl);

  // Registry of live connections; only touched on this worker's thread (or
  // after the thread has been joined).
  void Add(std::shared_ptr<ConnBase> conn);
  void Remove(ConnBase& conn);
  void ArmSweep();

  Server::Impl& impl;
  asio::io_context ctx{1};  // one thread runs it: Asio can skip some locking
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  std::vector<std::shared_ptr<ConnBase>> conns;
  asio::steady_timer sweep{ctx};
  std::chrono::milliseconds sweep_interval{250};
  std::thread thread;
  // This thread's shard of InFlightRegistry::Global() (one per worker of
  // every listener, round robin).
  std::size_t in_flight_shard = 0;
};

// The worker whose io_context the current thread runs (null elsewhere); lets
// `done` skip the post when it is called on the connection's own thread.
extern thread_local Worker* current_worker;

}  // namespace coffer::http::internal

namespace coffer::http {

struct Server::Impl {
  Impl(ServerOptions o, Handler& h) : options(std::move(o)), handler(h) {}

  void DoAccept();
  void OnAccepted(internal::Worker& worker, internal::tcp::socket socket);
  // A connection accepted at max_connections: see server.cc.
  void OnAcceptedAtLimit(internal::Worker& worker, internal::tcp::socket socket);

  ServerOptions options;
  Handler& handler;
  std::vector<std::unique_ptr<internal::Worker>> workers;
  std::optional<internal::tcp::acceptor> acceptor;
  std::optional<internal::asio::steady_timer> accept_retry;
  std::optional<internal::asio::ssl::context> ssl;
  std::uint16_t port = 0;
  std::size_t next_worker = 0;  // only on worker 0's thread (the acceptor's)

  std::atomic<std::size_t> open_connections{0};
  std::atomic<bool> stopping{false};
  std::mutex stop_mu;
  std::condition_variable stop_cv;  // signalled when a connection closes while stopping
  bool started = false;
  bool stopped = false;
};

namespace internal {
// Creates the connection object for an accepted socket (plain or TLS) on the
// current worker thread and starts it. Defined in connection.cc.
void StartConnection(Server::Impl& impl, Worker& worker, tcp::socket socket);
}  // namespace internal

}  // namespace coffer::http
