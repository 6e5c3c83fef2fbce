#include "engines/database/pg.h"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "engines/database/records.h"

namespace coffer::engines::database {
namespace {

// clang-format off
#define COFFER_PQ_FNS(X)                                                              \
  X(PQfinish) X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQexec)            \
  X(PQresultStatus) X(PQclear) X(PQtransactionStatus) X(PQexecParams) X(PQntuples)    \
  X(PQnfields) X(PQgetvalue) X(PQescapeIdentifier) X(PQfreemem) X(PQescapeLiteral)  \
  X(PQconninfoParse) X(PQconninfoFree)
// clang-format on

// libpq is loaded the first time the engine talks to PostgreSQL, not when
// the server starts: it pulls in Kerberos, LDAP, SASL and GnuTLS, whose
// start-up work costs about 3 MB of resident memory in every server, most of
// which never configure a database. Only these functions are used.
struct Libpq {
#define COFFER_PQ_FN(name) decltype(&::name) name = nullptr;
  COFFER_PQ_FNS(COFFER_PQ_FN)
#undef COFFER_PQ_FN
};

// The loaded library, or why it could not be loaded. Thread-safe.
const Result<Libpq>& LoadLibpq() {
  static const Result<Libpq> loaded = []() -> Result<Libpq> {
    void* handle = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      return Err(Unavailable(
          "the PostgreSQL client library libpq.so.5 cannot be loaded (install libpq5): " +
          std::string(::dlerror())));
    }
    Libpq lib;
#define COFFER_PQ_FN(name)                                                 \
  lib.name = reinterpret_cast<decltype(lib.name)>(::dlsym(handle, #name)); \
  if (lib.name == nullptr) return Err(Unavailable("libpq.so.5 has no " #name));
    COFFER_PQ_FNS(COFFER_PQ_FN)
#undef COFFER_PQ_FN
    return lib;  // the handle stays open for the life of the process
  }();
  return loaded;
}

// Only called where a connection object exists, i.e. after a successful load.
const Libpq& Pq() { return *LoadLibpq(); }

// Percent-encodes a value for the user/password part of a postgres:// URL.
std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

// libpq's message, unless it could contain the password.
std::string SafeMessage(const char* message, const SecretBytes* password) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  if (password != nullptr && !password->empty()) {
    // As given, and as {{password}} puts it into a URL (percent-encoded).
    std::string encoded = UrlEncode(password->view());
    const bool found =
        m.find(password->view()) != std::string::npos || m.find(encoded) != std::string::npos;
    WipeString(encoded);
    if (found) return "the database refused the connection";
  }
  // libpq quotes a connection string it cannot parse, with any password
  // written into it.
  return RedactConnectionString(m);
}

}  // namespace

PgConnection::~PgConnection() {
  if (conn_ != nullptr) Pq().PQfinish(conn_);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const ConnectionParams& params) {
  std::string url = params.connection_url;
  if (url.empty()) return Err(InvalidArgument("connection_url is required"));
  if (const auto& lib = LoadLibpq(); !lib) return Err(lib.error());
  bool is_uri = url.starts_with("postgres://") || url.starts_with("postgresql://");
  if (url.find("{{") != std::string::npos) {
    if (!is_uri) {
      return Err(InvalidArgument("templates in connection_url need a postgres:// URL"));
    }
    ReplaceAll(url, "{{username}}", UrlEncode(params.username));
    std::string pw = UrlEncode(params.password.view());
    ReplaceAll(url, "{{password}}", pw);
    WipeString(pw);
  }
  std::string password(params.password.view());
  std::vector<const char*> keys{"dbname", "connect_timeout"};
  std::vector<const char*> values{url.c_str(), "5"};
  if (!params.username.empty()) {
    keys.push_back("user");
    values.push_back(params.username.c_str());
  }
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* conn = Pq().PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  WipeString(url);
  WipeString(password);
  if (conn == nullptr) return Err(Unavailable("out of memory connecting to the database"));
  std::unique_ptr<PgConnection> c(new PgConnection(conn));
  if (Pq().PQstatus(conn) != CONNECTION_OK) {
    return Err(Unavailable("cannot connect to the database: " +
                           SafeMessage(Pq().PQerrorMessage(conn), &params.password)));
  }
  return c;
}

std::string RedactConninfoPassword(std::string_view connection_url) {
  std::string out = RedactConnectionString(connection_url);
  // libpq's own reading finds a password however it is written (spaces
  // around '=', a percent-encoded key in a URI): every spelling of its
  // value is replaced too.
  if (!LoadLibpq()) return out;
  const std::string text(connection_url);
  char* error = nullptr;
  PQconninfoOption* options = Pq().PQconninfoParse(text.c_str(), &error);
  if (error != nullptr) Pq().PQfreemem(error);
  if (options == nullptr) return out;
  std::string password;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = o->val;
  }
  Pq().PQconninfoFree(options);
  if (!password.empty() && password != "{{password}}") {
    std::string encoded = UrlEncode(password);
    ReplaceAll(out, password, "xxxxx");
    ReplaceAll(out, encoded, "xxxxx");
    WipeString(encoded);
  }
  WipeString(password);
  return out;
}

std::unique_ptr<PgConnection> PgConnection::ForEscapingOnly() {
  // An empty conninfo with no server to reach: libpq returns a PGconn in
  // CONNECTION_BAD that still carries an encoding (SQL_ASCII-compatible UTF8
  // handling) for the escaping functions.
  const char* keys[] = {"host", "port", "connect_timeout", nullptr};
  const char* values[] = {"/nonexistent-coffer-socket-dir", "1", "1", nullptr};
  if (!LoadLibpq()) return std::unique_ptr<PgConnection>(new PgConnection(nullptr));
  return std::unique_ptr<PgConnection>(new PgConnection(Pq().PQconnectdbParams(keys, values, 0)));
}

bool PgConnection::Ok() const { return conn_ != nullptr && Pq().PQstatus(conn_) == CONNECTION_OK; }

Status PgConnection::ResultError(const char* what) const {
  std::string m = SafeMessage(Pq().PQerrorMessage(conn_), nullptr);
  // Only the first line, PostgreSQL's own message: the lines after it
  // (LINE n: ..., QUERY:, CONTEXT:) quote the statement, which holds the
  // rendered password.
  m.resize(std::min(m.size(), m.find('\n')));
  if (!Ok()) return Unavailable(std::string(what) + ": connection lost: " + m);
  return InvalidArgument(std::string(what) + ": " + m);
}

Status PgConnection::Exec(const std::string& sql) {
  PGresult* r = Pq().PQexec(conn_, sql.c_str());
  ExecStatusType st = Pq().PQresultStatus(r);
  Pq().PQclear(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    return Status::Ok();
  }
  Status s = ResultError("statement failed");
  if (Ok() && Pq().PQtransactionStatus(conn_) == PQTRANS_INERROR) {
    PGresult* rb = Pq().PQexec(conn_, "ROLLBACK");
    Pq().PQclear(rb);
  }
  return s;
}

Result<std::vector<std::string>> PgConnection::Query(const std::string& sql,
                                                     const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = Pq().PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  if (Pq().PQresultStatus(r) != PGRES_TUPLES_OK && Pq().PQresultStatus(r) != PGRES_COMMAND_OK) {
    Pq().PQclear(r);
    return Err(ResultError("query failed"));
  }
  std::vector<std::string> rows;
  for (int i = 0; i < Pq().PQntuples(r); ++i) {
    rows.emplace_back(Pq().PQnfields(r) > 0 ? Pq().PQgetvalue(r, i, 0) : "");
  }
  Pq().PQclear(r);
  return rows;
}

Result<std::string> PgConnection::Identifier(std::string_view value) const {
  if (value.find('\0') != std::string_view::npos) {
    return Err(InvalidArgument("identifier contains a NUL byte"));
  }
  if (conn_ == nullptr) return Err(Unavailable("no PostgreSQL connection to quote with"));
  char* q = Pq().PQescapeIdentifier(conn_, value.data(), value.size());
  if (q == nullptr) return Err(InvalidArgument("cannot quote an identifier (invalid encoding?)"));
  std::string out(q);
  Pq().PQfreemem(q);
  return out;
}

Result<std::string> PgConnection::Literal(std::string_view value) const {
  if (value.find('\0') != std::string_view::npos) {
    return Err(InvalidArgument("literal contains a NUL byte"));
  }
  if (conn_ == nullptr) return Err(Unavailable("no PostgreSQL connection to quote with"));
  char* q = Pq().PQescapeLiteral(conn_, value.data(), value.size());
  if (q == nullptr) return Err(InvalidArgument("cannot quote a literal (invalid encoding?)"));
  std::string out(q);
  Pq().PQfreemem(q);
  return out;
}

PgPool::~PgPool() { Close(); }

PgPool::Handle::~Handle() {
  if (pool_ != nullptr && conn_) pool_->Release(std::move(conn_));
}

Result<PgPool::Handle> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Handle(this, std::move(c));
    }
    if (open_ < std::max(1, params_.max_open)) break;
    if (cv_.wait_for(lock, std::chrono::seconds(30)) == std::cv_status::timeout && idle_.empty() &&
        open_ >= std::max(1, params_.max_open)) {
      return Err(Unavailable("timed out waiting for a database connection"));
    }
  }
  ++open_;
  lock.unlock();
  auto conn = PgConnection::Connect(params_);
  if (!conn) {
    std::scoped_lock again(mu_);
    --open_;
    cv_.notify_one();
    return Err(conn.error());
  }
  return Handle(this, std::move(*conn));
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  std::scoped_lock lock(mu_);
  if (closed_ || !conn->Ok()) {
    --open_;
    conn.reset();
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

void PgPool::Close() {
  std::vector<std::unique_ptr<PgConnection>> idle;
  {
    std::scoped_lock lock(mu_);
    closed_ = true;
    open_ -= static_cast<int>(idle_.size());
    idle.swap(idle_);
  }
  cv_.notify_all();
}

}  // namespace coffer::engines::database
