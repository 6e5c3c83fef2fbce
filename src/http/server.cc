// Threading model: one io_context per I/O thread, each connection pinned to
// one of them (round-robin at accept). A connection's handlers therefore all
// run on one thread: no strands, no locks on the hot path, and the
// scheduler of each io_context is uncontended. The cost is that load is
// balanced per connection rather than per request; that is fine because
// handlers move blocking work off the I/O threads (see handler.h). Timeouts
// are enforced by one periodic sweep per worker over its connections'
// deadlines, so a request costs no timer syscalls, only a clock read.
// With ServerOptions::pin_io_threads each worker thread is also pinned to
// one CPU (PinWorkers).

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <cstring>

#include "common/log.h"
#include "common/loop_turn.h"
#include "http/server_internal.h"

namespace coffer::http {

namespace internal {

thread_local Worker* current_worker = nullptr;

Worker::Worker(Server::Impl& i) : impl(i) {
  static std::atomic<std::size_t> next_shard{0};
  in_flight_shard = next_shard.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Add(std::shared_ptr<ConnBase> conn) {
  conn->registry_index = conns.size();
  conns.push_back(std::move(conn));
}

void Worker::Remove(ConnBase& conn) {
  std::size_t i = conn.registry_index;
  if (i >= conns.size() || conns[i].get() != &conn) return;
  auto removed = std::move(conns[i]);  // keep it alive until we are done here
  if (i + 1 != conns.size()) {
    conns[i] = std::move(conns.back());
    conns[i]->registry_index = i;
  }
  conns.pop_back();
  impl.open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (impl.stopping.load(std::memory_order_relaxed)) {
    std::scoped_lock lock(impl.stop_mu);
    impl.stop_cv.notify_all();
  }
}

void Worker::ArmSweep() {
  sweep.expires_after(sweep_interval);
  sweep.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<ConnBase>> expired;
    for (const auto& c : conns) {
      if (c->deadline() <= now) expired.push_back(c);
    }
    for (const auto& c : expired) c->CloseNow();
    ArmSweep();
  });
}

}  // namespace internal

using internal::asio::ip::tcp;
namespace asio = internal::asio;

namespace {

Result<tcp::endpoint> ParseAddress(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Err(InvalidArgument("listener address must be host:port, got \"" + address + "\""));
  }
  std::string host = address.substr(0, colon);
  std::string port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return Err(InvalidArgument("invalid port in listener address \"" + address + "\""));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  auto ip = asio::ip::make_address(host, aec);
  if (aec) {
    return Err(InvalidArgument("invalid host in listener address \"" + address +
                               "\" (an IP address or localhost is required)"));
  }
  return tcp::endpoint(ip, static_cast<unsigned short>(port));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
Status ConfigureTls(asio::ssl::context& ctx, const ServerOptions& o) {
  SSL_CTX* c = ctx.native_handle();
  int min_version = 0;
  if (o.tls_min_version == "tls12") {
    min_version = TLS1_2_VERSION;
  } else if (o.tls_min_version == "tls13") {
    min_version = TLS1_3_VERSION;
  } else {
    return InvalidArgument("tls_min_version must be \"tls12\" or \"tls13\"");
  }
  if (SSL_CTX_set_min_proto_version(c, min_version) != 1) {
    return InvalidArgument("cannot set the minimum TLS version");
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  // TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are OpenSSL's
  // defaults (all AEAD).
  if (SSL_CTX_set_cipher_list(c,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    return Internal("cannot set the TLS cipher list");
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return InvalidArgument("TLS is enabled but tls_cert_file or tls_key_file is empty");
  }
  if (SSL_CTX_use_certificate_chain_file(c, o.tls_cert_file.c_str()) != 1) {
    return InvalidArgument("cannot load TLS certificate chain from " + o.tls_cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(c, o.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return InvalidArgument("cannot load TLS private key from " + o.tls_key_file);
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return InvalidArgument("TLS private key does not match the certificate");
  }
  if (o.tls_require_and_verify_client_cert) {
    if (o.tls_client_ca_file.empty()) {
      return InvalidArgument(
          "tls_require_and_verify_client_cert needs tls_client_ca_file (the CAs to trust)");
    }
    if (SSL_CTX_load_verify_locations(c, o.tls_client_ca_file.c_str(), nullptr) != 1) {
      return InvalidArgument("cannot load client CA certificates from " + o.tls_client_ca_file);
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else if (!o.tls_disable_client_certs) {
    // Ask for a certificate, take any: auth/cert verifies it per role.
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  }
  // Sessions are not resumed across connections: a resumed session would
  // carry no peer chain for cert logins.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  return Status::Ok();
}
#pragma GCC diagnostic pop

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, Handler& handler) {
  if (options.max_connections == 0 || options.max_header_size == 0) {
    return Err(InvalidArgument("max_connections and max_header_size must be positive"));
  }
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseAddress(options.address));
  // Resolved once here, so that each response's write reads one field.
  if (options.write_timeout.count() <= 0) options.write_timeout = options.idle_timeout;
  auto impl = std::make_unique<Impl>(std::move(options), handler);
  const ServerOptions& o = impl->options;

  if (o.tls) {
    impl->ssl.emplace(asio::ssl::context::tls_server);
    Status s = ConfigureTls(*impl->ssl, o);
    ERR_clear_error();
    if (!s.ok()) return Err(std::move(s));
  }

  int threads =
      o.io_threads > 0 ? o.io_threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  const auto shortest =
      std::min({o.header_read_timeout, o.idle_timeout, o.body_read_timeout, o.write_timeout});
  const auto interval = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(shortest) / 4,
      std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  for (int i = 0; i < threads; ++i) {
    impl->workers.push_back(std::make_unique<internal::Worker>(*impl));
    impl->workers.back()->sweep_interval = interval;
  }

  boost::system::error_code ec;
  auto& acceptor = impl->acceptor.emplace(impl->workers[0]->ctx);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Err(Unavailable("cannot listen on " + o.address + ": " + ec.message()));
  }
  impl->port = acceptor.local_endpoint(ec).port();
  impl->accept_retry.emplace(impl->workers[0]->ctx);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const { return impl_->port; }

std::size_t Server::open_connections() const {
  return impl_->open_connections.load(std::memory_order_relaxed);
}

namespace {

// Pins worker i to the i-th of the CPUs this process may run on (its
// affinity mask, which taskset or a cpuset may have narrowed), modulo their
// count. Why: with one thread per core left to the scheduler, two I/O
// threads (or one and a busy neighbour) can share a core for tens of
// milliseconds while the other core has room, and the connections of the
// thread that waits queue meanwhile (docs/benchmarks.md). A failure is
// logged and leaves the thread unpinned: it serves as before.
void PinWorkers(const std::vector<std::unique_ptr<internal::Worker>>& workers) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    Log(LogModule::kHttp)
        .warn("cannot read the CPUs this process may use; I/O threads stay unpinned");
    return;
  }
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  }
  if (cpus.empty()) return;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpus[i % cpus.size()], &one);
    if (int e = pthread_setaffinity_np(workers[i]->thread.native_handle(), sizeof(one), &one);
        e != 0) {
      Log(LogModule::kHttp)
          .warn("cannot pin an I/O thread to CPU {}: {}", cpus[i % cpus.size()], std::strerror(e));
    }
  }
}

}  // namespace

void Server::Start() {
  Impl& impl = *impl_;
  if (impl.started || impl.stopped) return;
  impl.started = true;
  for (auto& w : impl.workers) {
    {
      std::scoped_lock lock(w->gate->mu);
      w->gate->ctx = &w->ctx;
    }
    w->work.emplace(w->ctx.get_executor());
    w->ArmSweep();
  }
  asio::post(impl.workers[0]->ctx, [&impl] { impl.DoAccept(); });
  for (auto& w : impl.workers) {
    internal::Worker* worker = w.get();
    w->thread = std::thread([worker] {
      internal::current_worker = worker;
      // Work asked for "at the end of this turn" is posted behind the
      // handlers that are ready now (Asio runs them in order).
      struct AsioTurn final : LoopTurn {
        explicit AsioTurn(internal::Worker& w) : ctx(w.ctx), gate(w.gate) {}
        void AtEnd(std::function<void()> fn) override { asio::post(ctx, std::move(fn)); }
        // Through the gate, as a `done` from another thread: never into an
        // io_context that Stop() has stopped.
        std::function<bool(std::function<void()>)> Poster() const override {
          return [gate = gate](std::function<void()> fn) {
            std::scoped_lock lock(gate->mu);
            if (gate->ctx == nullptr) return false;
            asio::post(*gate->ctx, std::move(fn));
            return true;
          };
        }
        asio::io_context& ctx;
        std::shared_ptr<internal::Gate> gate;
      } turn(*worker);
      LoopTurn::SetCurrent(&turn);
      for (;;) {
        try {
          worker->ctx.run();
          break;
        } catch (const std::exception& e) {
          Log(LogModule::kHttp).error("uncaught exception on an I/O thread: {}", e.what());
        } catch (...) {
          Log(LogModule::kHttp).error("uncaught exception on an I/O thread");
        }
      }
      LoopTurn::SetCurrent(nullptr);
      internal::current_worker = nullptr;
    });
    // Named so that top -H, perf and /proc/PID/task/*/comm tell them apart;
    // from here, so the name is set before the server reports it started.
    pthread_setname_np(w->thread.native_handle(), "coffer-io");
  }
  if (impl.options.pin_io_threads) PinWorkers(impl.workers);
}

void Server::Impl::DoAccept() {
  if (stopping.load()) return;
  internal::Worker& target = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(
      target.ctx, [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || stopping.load()) return;
        if (ec) {
          // EMFILE and friends: back off briefly instead of spinning.
          Log(LogModule::kHttp).warn("accept failed: {}", ec.message());
          accept_retry->expires_after(std::chrono::milliseconds(50));
          accept_retry->async_wait([this](const boost::system::error_code& e) {
            if (!e) DoAccept();
          });
          return;
        }
        if (open_connections.load(std::memory_order_relaxed) >= options.max_connections) {
          OnAcceptedAtLimit(target, std::move(socket));
        } else {
          open_connections.fetch_add(1, std::memory_order_relaxed);
          OnAccepted(target, std::move(socket));
        }
        DoAccept();
      });
}

void Server::Impl::OnAcceptedAtLimit(internal::Worker& worker, tcp::socket socket) {
  // At max_connections a new client is not turned away while others only
  // keep idle connections open (clients that open a connection per request
  // and never close them, such as a Java HttpClient made per call): the
  // worker closes its longest-idle kept-alive connection and takes the new
  // one. Connections in the middle of a request are never closed for this;
  // when the worker has no idle one, the new connection is refused.
  asio::post(worker.ctx, [this, &worker, s = std::move(socket)]() mutable {
    internal::ConnBase* oldest = nullptr;
    if (!stopping.load()) {
      for (const auto& c : worker.conns) {
        if (c->Idle() && (oldest == nullptr || c->deadline() < oldest->deadline())) {
          oldest = c.get();
        }
      }
    }
    if (oldest == nullptr || !oldest->CloseIfIdle()) {
      boost::system::error_code ignored;
      s.close(ignored);
      Log(LogModule::kHttp)
          .warn("connection refused: max_connections ({}) reached", options.max_connections);
      return;
    }
    open_connections.fetch_add(1, std::memory_order_relaxed);
    internal::StartConnection(*this, worker, std::move(s));
  });
}

void Server::Impl::OnAccepted(internal::Worker& worker, tcp::socket socket) {
  asio::post(worker.ctx, [this, &worker, s = std::move(socket)]() mutable {
    if (stopping.load()) {
      boost::system::error_code ignored;
      s.close(ignored);
      open_connections.fetch_sub(1, std::memory_order_relaxed);
      std::scoped_lock lock(stop_mu);
      stop_cv.notify_all();
      return;
    }
    internal::StartConnection(*this, worker, std::move(s));
  });
}

void Server::Stop() {
  Impl& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  impl.stopping.store(true);
  if (!impl.started) {
    boost::system::error_code ignored;
    impl.acceptor->close(ignored);
    return;
  }
  asio::post(impl.workers[0]->ctx, [&impl] {
    boost::system::error_code ignored;
    impl.acceptor->close(ignored);
    impl.accept_retry->cancel();
  });
  for (auto& w : impl.workers) {
    internal::Worker* worker = w.get();
    asio::post(w->ctx, [worker] {
      auto conns = worker->conns;  // BeginShutdown may remove from the registry
      for (auto& c : conns) c->BeginShutdown();
    });
  }
  {
    std::unique_lock lock(impl.stop_mu);
    impl.stop_cv.wait_for(lock, impl.options.shutdown_timeout,
                          [&impl] { return impl.open_connections.load() == 0; });
  }
  for (auto& w : impl.workers) {
    std::scoped_lock lock(w->gate->mu);
    w->gate->ctx = nullptr;
  }
  for (auto& w : impl.workers) {
    w->work.reset();
    w->ctx.stop();
  }
  for (auto& w : impl.workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  // The threads are gone: drop what is left while the io_contexts live.
  for (auto& w : impl.workers) w->conns.clear();
  if (impl.open_connections.load() != 0) {
    Log(LogModule::kHttp).warn("stopped with requests still in flight");
  }
}

}  // namespace coffer::http
