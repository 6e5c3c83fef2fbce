#pragma once
// PostgreSQL access on libpq: one connection (PgConnection), a bounded pool
// of them per database config (PgPool), and the Quoter libpq's escaping
// functions give (PQescapeIdentifier / PQescapeLiteral).
//
// Secrets: the admin password is held in SecretBytes and reaches libpq only
// as a connection parameter; error messages are libpq's, with any text that
// contains the password replaced by a generic message.
//
// Thread-safety: a PgConnection is used by one thread at a time (the pool
// hands it out exclusively). PgPool is thread-safe.
// Errors: kUnavailable (cannot connect, connection lost), kInvalidArgument
// (a statement failed: the server's message, which names no password we
// sent because passwords are only inside literals PostgreSQL does not echo).

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/secret_bytes.h"
#include "common/status.h"
#include "engines/database/sql_template.h"

struct pg_conn;

namespace coffer::engines::database {

struct ConnectionParams {
  std::string connection_url;  // may hold {{username}} and {{password}}
  std::string username;
  SecretBytes password;
  int max_open = 4;
  ConnectionParams Clone() const { return {connection_url, username, password.Clone(), max_open}; }
};

// The connection URL as config reads show it: RedactConnectionString's
// redaction, and any password libpq itself would read from it (however it
// is written) replaced by xxxxx.
std::string RedactConninfoPassword(std::string_view connection_url);

class PgConnection final : public Quoter {
 public:
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  static Result<std::unique_ptr<PgConnection>> Connect(const ConnectionParams& params);
  // A connection object that never connected: escaping works on it
  // (libpq needs a PGconn for the client encoding), nothing else does.
  static std::unique_ptr<PgConnection> ForEscapingOnly();

  // Runs one or more statements (simple query protocol).
  Status Exec(const std::string& sql);
  // Runs a query with text parameters; the first column of every row.
  Result<std::vector<std::string>> Query(const std::string& sql,
                                         const std::vector<std::string>& params);
  bool Ok() const;

  Result<std::string> Identifier(std::string_view value) const override;
  Result<std::string> Literal(std::string_view value) const override;

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  Status ResultError(const char* what) const;

  pg_conn* conn_;
};

class PgPool {
 public:
  explicit PgPool(ConnectionParams params) : params_(std::move(params)) {}
  ~PgPool();

  // A connection held until the handle goes away; returned to the pool if
  // still healthy. Waits when max_open are in use.
  class Handle {
   public:
    Handle(PgPool* pool, std::unique_ptr<PgConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Handle(Handle&&) = default;
    ~Handle();
    PgConnection* operator->() { return conn_.get(); }
    PgConnection& operator*() { return *conn_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  Result<Handle> Acquire();
  // Closes idle connections; those in use close when released.
  void Close();
  const std::string& username() const { return params_.username; }

 private:
  void Release(std::unique_ptr<PgConnection> conn);

  const ConnectionParams params_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  int open_ = 0;                                     // guarded by mu_
  bool closed_ = false;                              // guarded by mu_
};

}  // namespace coffer::engines::database
