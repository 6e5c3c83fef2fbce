// The dispatcher: argv → registered command → CLI11 parse → Command::Run.
#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/command_util.h"
#include "cli/output_policy.h"

#ifndef COFFER_VERSION
#define COFFER_VERSION "0.1.0"
#endif

namespace coffer::cli {

std::string_view CofferCliVersion() { return COFFER_VERSION; }

namespace {

bool IsHelpFlag(std::string_view a) { return a == "-h" || a == "--help"; }
bool IsVersionFlag(std::string_view a) { return a == "-v" || a == "--version"; }

std::string Indented(const std::vector<const CommandSpec*>& specs, std::string_view parent) {
  std::vector<Row> rows;
  for (const CommandSpec* s : specs) {
    std::string leaf = parent.empty() ? s->name : s->name.substr(parent.size() + 1);
    rows.push_back({leaf, s->synopsis});
  }
  std::string table = FormatColumns(rows);
  std::string out;
  std::size_t start = 0;
  while (start < table.size()) {
    std::size_t nl = table.find('\n', start);
    out += "    " + table.substr(start, nl - start + 1);
    start = nl + 1;
  }
  return out;
}

std::string Usage(const Registry& registry) {
  return "Usage: coffer <command> [args]\n\nCommands:\n" + Indented(registry.Children(""), "") +
         "\nRun \"coffer <command> -h\" for the options of a command.\n";
}

// "--token=hvs.x" -> "-token": a flag named as Vault's Go flag package names
// it, without the value, which may be a secret.
std::string FlagName(std::string_view arg) {
  arg = arg.substr(0, arg.find('='));
  while (arg.starts_with("--")) arg.remove_prefix(1);
  return std::string(arg);
}

// CLI11's message for a bad value quotes the value; this one names the flag
// only. Other parse errors name flags and counts, never values.
std::string ParseErrorText(const CLI::ParseError& e) {
  std::string_view what = e.what();
  const bool conversion = dynamic_cast<const CLI::ConversionError*>(&e) != nullptr;
  if (!conversion && dynamic_cast<const CLI::ValidationError*>(&e) == nullptr) {
    return std::string(what);
  }
  std::string_view name;
  constexpr std::string_view kCouldNot = "Could not convert: ";
  constexpr std::string_view kNotAllowed = " is not an allowed value for ";
  if (what.starts_with(kCouldNot)) {
    name = what.substr(kCouldNot.size());
    name = name.substr(0, name.find(" = "));
  } else if (std::size_t at = what.find(kNotAllowed); at != std::string_view::npos) {
    name = what.substr(at + kNotAllowed.size());
  } else {
    name = what.substr(0, what.find(':'));
  }
  return "invalid value for flag " + FlagName(name);
}

// With extras allowed, what CLI11 left over is an undefined flag or more
// positional arguments than the command takes; neither is echoed, since a
// mistyped flag or a stray argument may carry a secret. Empty when nothing
// was left over.
std::string LeftoverError(const CLI::App& app) {
  std::size_t extra = 0;
  for (const std::string& arg : app.remaining()) {
    if (arg == "--") continue;
    if (arg.size() > 1 && arg[0] == '-') return "flag provided but not defined: " + FlagName(arg);
    ++extra;
  }
  if (extra == 0) return "";
  // Extras are left only when every positional is full.
  std::size_t taken = 0, min = 0, max = 0;
  for (const CLI::Option* opt : app.get_options()) {
    if (!opt->get_positional()) continue;
    taken += opt->count();
    max += static_cast<std::size_t>(opt->get_items_expected_max());
    if (opt->get_required()) min += static_cast<std::size_t>(opt->get_items_expected_min());
  }
  return ArityError(taken + extra, min, max);
}

// "-name=" is an empty value to Go's flag package, but CLI11 reads "--name="
// as "--name" and takes the next argument as the value. An empty argument of
// its own is CLI11's empty value, so a value option's "--name=" becomes
// "--name" "". Flags are left alone (a bare "--flag=" is true).
std::vector<std::string> SplitEmptyValues(const CLI::App& app, std::vector<std::string> args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool passthrough = false;
  for (std::string& arg : args) {
    passthrough = passthrough || arg == "--";
    if (!passthrough && arg.size() > 3 && arg.starts_with("--") && arg.back() == '=') {
      const CLI::Option* opt = app.get_option_no_throw(arg.substr(0, arg.size() - 1));
      if (opt != nullptr && opt->get_items_expected_max() > 0) {
        arg.pop_back();
        out.push_back(std::move(arg));
        out.emplace_back();
        continue;
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

class VersionCommand : public Command {
 public:
  int Run(Invocation& inv) override {
    inv.out() << "Coffer v" << COFFER_VERSION << "\n";
    return 0;
  }
};

// `coffer server` is dispatched by main.cc before the CLI runs; this entry
// only lists it in the usage text.
class ServerPlaceholder : public Command {
 public:
  int Run(Invocation& inv) override {
    inv.err() << "The server is not part of this build of the CLI.\n";
    return 1;
  }
};

// The end of a run under -output-policy or -output-curl-string, as Vault's
// CLI ends it: the policy or the command on stdout and 0; when no request
// was made, the command's own errors and 1 (or its usage error's code).
int PrintCaptured(RequestCapture& capture, int code, const std::string& held_err, Env& env) {
  const bool curl = capture.output == RequestCapture::Output::kCurl;
  if (!capture.captured) {
    if (code == 127) return code;
    *env.err << held_err;
    if (code == 0) {
      *env.err << (curl ? "Could not generate cURL command" : "Could not generate policy")
               << ": the command made no request\n";
      return 1;
    }
    *env.err << (curl ? "Unable to generate cURL string from command\n"
                      : "Unable to generate policy from command\n");
    return code;
  }
  if (curl) {
    *env.out << capture.curl << "\n";
    WipeString(capture.curl);  // it holds the request's body
    return 0;
  }
  Result<std::string> hcl = SamplePolicy(capture);
  if (!hcl) {
    *env.err << "Error assembling policy HCL: " << hcl.error().message() << "\n";
    return 1;
  }
  *env.out << *hcl << "\n";
  return 0;
}

}  // namespace

void RegisterVersionCommand(Registry& registry) {
  registry.Add({"version", "Prints the Coffer CLI version",
                "Usage: coffer version\n\n  Prints the version of this Coffer binary.",
                [] { return std::make_unique<VersionCommand>(); }});
  registry.Add({"server", "Start a Coffer server",
                "Usage: coffer server [options]\n\n  Starts a Coffer server.",
                [] { return std::make_unique<ServerPlaceholder>(); }});
  // Also dispatched by main.cc (it uses the server's config loader).
  registry.Add({"operator diagnose", "Checks a server configuration and its environment",
                "Usage: coffer operator diagnose -config=FILE [-format=table|json] "
                "[-skip=storage|listener]\n\n"
                "  Checks, without starting a server, what would stop one from starting or\n"
                "  serving with FILE: limits, syntax, storage, listeners and their TLS\n"
                "  certificates, the seal, memory locking. Exit code 0 when every check\n"
                "  succeeds, 2 with warnings, 1 with a failure.",
                [] { return std::make_unique<ServerPlaceholder>(); }});
}

void Registry::Add(CommandSpec spec) {
  std::string name = spec.name;
  commands_.insert_or_assign(std::move(name), std::move(spec));
}

const CommandSpec* Registry::Match(const std::vector<std::string>& args, std::size_t* words) const {
  std::size_t limit = 0;
  while (limit < args.size() && !args[limit].empty() && args[limit][0] != '-') ++limit;
  for (std::size_t n = limit; n > 0; --n) {
    std::string name = args[0];
    for (std::size_t i = 1; i < n; ++i) name += " " + args[i];
    auto it = commands_.find(name);
    if (it != commands_.end()) {
      *words = n;
      return &it->second;
    }
  }
  return nullptr;
}

std::vector<const CommandSpec*> Registry::Children(std::string_view parent) const {
  std::vector<const CommandSpec*> out;
  for (const auto& [name, spec] : commands_) {
    std::string_view rest = name;
    if (!parent.empty()) {
      if (!rest.starts_with(parent) || rest.size() <= parent.size() || rest[parent.size()] != ' ') {
        continue;
      }
      rest.remove_prefix(parent.size() + 1);
    }
    if (rest.find(' ') == std::string_view::npos) out.push_back(&spec);
  }
  return out;
}

std::string GroupHelp(const Registry& registry, const CommandSpec& group) {
  return group.help + "\n\nSubcommands:\n" + Indented(registry.Children(group.name), group.name);
}

int Run(const std::vector<std::string>& raw_args, Env& env) {
  std::vector<std::string> args = NormalizeArgs(raw_args);
  Registry registry;
  RegisterBuiltins(registry);
  std::ostream& err = *env.err;

  if (args.empty()) {
    err << Usage(registry);
    return 127;  // Vault (mitchellh/cli) answers a missing command with 127
  }
  if (IsHelpFlag(args[0])) {
    err << Usage(registry);
    return 0;
  }
  if (IsVersionFlag(args[0])) {
    *env.out << "Coffer v" << COFFER_VERSION << "\n";
    return 0;
  }
  std::size_t words = 0;
  const CommandSpec* spec = registry.Match(args, &words);
  if (spec == nullptr) {
    if (args[0].starts_with("-")) {
      err << "Invalid flags before the subcommand. If these flags are for\n"
             "the subcommand, please put them after the subcommand.\n\n";
      err << Usage(registry);
      return 1;
    }
    err << Usage(registry);
    return 127;
  }
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(words), args.end());
  if (!spec->make) {
    err << GroupHelp(registry, *spec) << "";
    bool help = std::any_of(rest.begin(), rest.end(), [](auto& a) { return IsHelpFlag(a); });
    return help ? 0 : 1;
  }

  std::unique_ptr<Command> command = spec->make();
  Invocation inv{env, {}, OutputFormat::kTable};
  CLI::App app{spec->help, "coffer " + spec->name};
  app.set_help_flag("-h,--help", "Print this help and exit");
  // Go's flag package keeps the last value of a flag given twice; options
  // that collect every value (-policy, -versions, ...) set TakeAll.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--address", inv.options.address,
                 "Address of the server (default: $COFFER_ADDR, $VAULT_ADDR, "
                 "https://127.0.0.1:8200)");
  app.add_option("--ca-cert", inv.options.ca_cert,
                 "PEM file of CA certificates that verify the server's certificate "
                 "(default: $COFFER_CACERT, $VAULT_CACERT, the system store)");
  app.add_option("--ca-path", inv.options.ca_path,
                 "Directory of PEM files of CA certificates, used when no CA file is given "
                 "(default: $COFFER_CAPATH, $VAULT_CAPATH)");
  app.add_option("--client-cert", inv.options.client_cert,
                 "PEM file of a TLS client certificate, for cert logins (default: "
                 "$COFFER_CLIENT_CERT, $VAULT_CLIENT_CERT)");
  app.add_option("--client-key", inv.options.client_key,
                 "PEM file of the client certificate's private key (default: "
                 "$COFFER_CLIENT_KEY, $VAULT_CLIENT_KEY)");
  AddBoolFlag(app, "--tls-skip-verify", inv.options.tls_skip_verify,
              "Do not verify the server's TLS certificate (insecure; also $COFFER_SKIP_VERIFY)");
  app.add_option("--tls-server-name", inv.options.tls_server_name,
                 "Name sent as SNI and checked against the server's certificate, when it is "
                 "not the address's host (default: $COFFER_TLS_SERVER_NAME, "
                 "$VAULT_TLS_SERVER_NAME)");
  app.add_option("--namespace,--ns", inv.options.vault_namespace,
                 "Namespace of the request (X-Vault-Namespace; default: $COFFER_NAMESPACE, "
                 "$VAULT_NAMESPACE). Coffer has only the root namespace and refuses others");
  app.add_option("--header", inv.options.headers,
                 "K=V header sent with every request; repeat for more (not X-Vault-*)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_flag("--non-interactive", inv.options.non_interactive,
               "Never prompt: what would be asked for is an error instead");
  app.add_flag("--output-policy", inv.options.output_policy,
               "Instead of sending the request, print the policy it needs and exit");
  app.add_flag("--output-curl-string", inv.options.output_curl_string,
               "Instead of sending the request, print a curl command (for bash) that sends it "
               "and exit; the body it prints holds the data given");
  app.add_option(
      "--format", inv.options.format,
      "Output format: table, json or yaml (default: $COFFER_FORMAT, $VAULT_FORMAT, table)");
  command->AddFlags(app);
  // A command that passes the rest of argv on (run) reads app.remaining().
  const bool check_leftovers = !app.get_prefix_command();
  if (check_leftovers) app.allow_extras();
  rest = SplitEmptyValues(app, std::move(rest));
  std::reverse(rest.begin(), rest.end());  // CLI11 consumes a vector from its back
  std::string parse_error;
  try {
    app.parse(rest);
    if (check_leftovers) parse_error = LeftoverError(app);
  } catch (const CLI::CallForHelp&) {
    err << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    parse_error = ParseErrorText(e);
  }
  if (!parse_error.empty()) {
    err << parse_error << "\n\nRun \"coffer " << spec->name << " -h\" for usage.\n";
    return 1;
  }

  std::string format = inv.options.format;
  for (const char* name : {"COFFER_FORMAT", "VAULT_FORMAT"}) {
    if (!format.empty() || !env.getenv) break;
    format = env.getenv(name).value_or("");
  }
  if (format.empty()) format = "table";
  Result<OutputFormat> parsed = ParseFormat(format);
  if (!parsed) {
    err << parsed.error().message() << "\n";
    return 1;
  }
  inv.format = *parsed;
  if (inv.format == OutputFormat::kRaw && spec->name != "read") {
    err << "This command does not support the -format=raw option.\n";  // Vault's words
    return 1;
  }
  // -output-policy, -output-curl-string: the command runs with clients that
  // record its first request instead of sending it; what it says about that
  // request is not shown (the request "failed"), only the policy or command.
  std::ostringstream held_err;
  if (inv.options.output_policy || inv.options.output_curl_string) {
    inv.capture = std::make_shared<RequestCapture>();
    inv.capture->active = true;
    if (inv.options.output_curl_string) inv.capture->output = RequestCapture::Output::kCurl;
    env.err = &held_err;
  }
  int code = 1;
  try {
    code = command->Run(inv);
  } catch (const std::exception& e) {
    // JSON of an unexpected shape from the server, for instance.
    *env.err << "Error: unexpected failure: " << e.what() << "\n";
  }
  if (!inv.capture) return code;
  env.err = &err;
  return PrintCaptured(*inv.capture, code, held_err.str(), env);
}

int Main(int argc, char** argv) {
  // The CLI handles unseal keys and tokens; keep them out of core files.
  DisableCoreDumps();
  std::vector<std::string> args(argv + 1, argv + argc);
  Env env;
  env.in = &std::cin;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.tty_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : -1;
  env.out_is_tty = isatty(STDOUT_FILENO) != 0;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  int code = Run(args, env);
  std::cout.flush();
  return code;
}

}  // namespace coffer::cli
