#pragma once
// Renders the SQL statements of database roles ("creation_statements" and
// friends) with Vault's template variables {{name}}, {{username}},
// {{password}} and {{expiration}}, without ever concatenating a raw value
// into SQL: every value goes through a Quoter (libpq's PQescapeIdentifier /
// PQescapeLiteral in production).
//
// How a placeholder is quoted depends on where it stands in the statement,
// which is scanned with a small SQL lexer (quotes, dollar quotes, comments):
//   "{{name}}"     the whole double-quoted token becomes Identifier(value)
//   '{{password}}' the whole single-quoted token becomes Literal(value)
//   {{name}}       bare: Identifier for name/username, Literal otherwise
// A placeholder inside a longer quoted string ('x{{name}}'), a dollar-quoted
// body or a comment is refused (kInvalidArgument): there is no safe way to
// splice a value there. Unknown variables are refused too.
//
// Thread-safety: reentrant. Errors: kInvalidArgument (the message names the
// variable, never a value), and the Quoter's errors.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace coffer::engines::database {

class Quoter {
 public:
  virtual ~Quoter() = default;
  // "name" → "\"name\"" with inner double quotes doubled.
  virtual Result<std::string> Identifier(std::string_view value) const = 0;
  // "x'y" → "'x''y'" (or E'...' when there are backslashes).
  virtual Result<std::string> Literal(std::string_view value) const = 0;
};

// Variable name → value. Values may be secret (password): the rendered SQL
// is secret too and must not be logged.
using TemplateValues = std::map<std::string, std::string, std::less<>>;

Result<std::string> RenderStatement(std::string_view statement, const TemplateValues& values,
                                    const Quoter& quoter);

// Renders each statement with stand-in values and quoting, so that a role
// is refused when it is written (kInvalidArgument naming `field`) rather
// than when its credentials are issued or, worse, revoked.
Status CheckStatements(const std::vector<std::string>& statements, std::string_view field);

}  // namespace coffer::engines::database
