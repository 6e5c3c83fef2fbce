# Every dependency is a Debian 12 package installed by scripts/install-deps.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system context)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
# Abseil's open-addressing hash map, for the storage read cache's index
# (src/storage/cache).
find_package(absl CONFIG REQUIRED)
# simdjson: the stored records every KV read decodes (src/common/json_fast.cc).
find_package(simdjson CONFIG REQUIRED)
find_package(GTest REQUIRED)
# libsodium (Argon2id password hashing for userpass) ships no CMake config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(LDAP REQUIRED IMPORTED_TARGET ldap)
# libpq (the database engine's PostgreSQL plugin).
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
# Beast and Asio are header-only and heavy: only src/http, src/cli and
# src/auth/jwt/http_fetch.cc (the JWKS fetcher) include them.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
# Login MFA (src/identity): TOTP with liboath, enrolment QR codes with
# libqrencode written as PNG with libpng.
pkg_check_modules(OATH REQUIRED IMPORTED_TARGET liboath)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
# `coffer run` reads .coffer.yaml project files with libyaml.
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
# coffer debug packs its bundle into a .tar.gz.
pkg_check_modules(ARCHIVE REQUIRED IMPORTED_TARGET libarchive)
# Metrics: prometheus-cpp's data model and text serializer (core library
# only; sys/metrics is served by Coffer's own HTTP server). Only src/metrics
# links it.
find_package(prometheus-cpp CONFIG REQUIRED)
