#pragma once
// Helpers shared by the API command families (kv, policy, token, secrets,
// auth, read/write, lease, login): exit codes, argument checks, paths,
// durations, secrets read from stdin, and wiping JSON that held secrets.

#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "common/encoding.h"      // ParseGoBool
#include "common/json_numbers.h"  // WipeJson
#include "common/url.h"           // QueryEscape

namespace CLI {
class App;
}  // namespace CLI

namespace coffer::cli {

// Vault's exit codes: 1 usage or local error, 2 the server refused or failed.
constexpr int kExitLocal = 1;
constexpr int kExitServer = 2;

// Table cells of the operator commands' status output.
inline std::string Text(long long v) { return std::to_string(v); }
inline std::string Bool(bool v) { return v ? "true" : "false"; }

// A client, or null after printing why on err().
std::unique_ptr<ApiClient> ClientOrReport(Invocation& inv);

// Vault's arity messages; empty when `n` is within [min, max].
std::string ArityError(std::size_t n, std::size_t min, std::size_t max);
// False after printing ArityError's message on err() when `n` is outside
// [min, max].
bool ArityOk(Invocation& inv, std::size_t n, std::size_t min, std::size_t max);

// Trims spaces and slashes at both ends ("/secret/foo/" -> "secret/foo").
std::string SanitizePath(std::string_view path);
std::string EnsureTrailingSlash(std::string path);

// "-policy=a,b -policy=c" -> {a, b, c} (Vault's string-slice flags).
std::vector<std::string> SplitCommaList(const std::vector<std::string>& values);

// A Vault duration ("1h", "30m", "90") in seconds. kInvalidArgument otherwise.
Result<long long> DurationSeconds(std::string_view text);

// Checks duration flags before anything is sent, as Vault's CLI parses its
// duration flags: each {flag name, value} with a non-empty value that is not
// a duration (nor one of `also`, such as "system") prints Go's
// `invalid value "V" for flag -NAME` and makes this false.
bool DurationFlagsValid(Invocation& inv,
                        std::initializer_list<std::pair<const char*, const std::string*>> flags,
                        std::initializer_list<std::string_view> also = {});

// A token given as an argument: "-" reads it from stdin; empty means
// "prompt" (hidden on a terminal, one line of stdin otherwise). The argument
// string is wiped. kInvalidArgument when nothing was entered.
Result<SecretBytes> ReadTokenArgument(Invocation& inv, std::string& arg, std::string_view prompt);

// Replaces every occurrence of `secret` in `message` with <redacted>.
std::string Redact(std::string message, std::string_view secret);

// The error text for a failed Send: the transport error, or Vault's
// "Error making API request" text for a non-2xx answer.
std::string DescribeFailure(const ApiClient& client, std::string_view method, std::string_view path,
                            const Result<ApiResponse>& resp);

// An unseal key share given as a positional argument: only "-" (stdin) is
// accepted. Otherwise wipes it, prints why on err() and returns false.
bool RefuseShareArgument(Invocation& inv, std::string& arg);

// Reads a share (hidden on a terminal, one line of stdin otherwise) and PUTs
// {"key": <share>, "nonce": nonce} to `path` (sys/rekey/*, sys/generate-root/
// update). The share is wiped; an error message never contains it.
Result<Json> PostShare(ApiClient& client, Invocation& inv, std::string_view path,
                       std::string_view nonce, std::string_view prompt);

// Sends a request and wipes `body` afterwards.
Result<Json> SendWiped(ApiClient& client, std::string_view method, std::string_view path,
                       std::string& body);

// A Vault boolean flag whose absence matters: -NAME sets `target` to true,
// -NAME=true|false (any ParseGoBool form) to that value, and the last one
// given wins; left unset when the flag is absent. A bare flag never takes
// the next argument as its value.
void AddBoolFlag(CLI::App& app, const std::string& name, std::optional<bool>& target,
                 const std::string& help);

// -field and -wrap-ttl flags, declared the same way everywhere.
void AddFieldFlag(CLI::App& app, std::string& field);
void AddWrapTtlFlag(CLI::App& app, std::string& wrap_ttl);

// Applies -wrap-ttl (X-Vault-Wrap-TTL) to a client, else COFFER_WRAP_TTL or
// VAULT_WRAP_TTL; false after printing an error when the duration is invalid.
bool ApplyWrapTtl(Invocation& inv, ApiClient& client, const std::string& wrap_ttl);

// Reads all of `in` into a string.
std::string ReadAll(std::istream& in);

}  // namespace coffer::cli
