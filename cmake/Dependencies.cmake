# Every outside library comes from a Debian package (scripts/install-deps installs them).
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS json url system)
find_package(OpenSSL REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(Threads REQUIRED)
# libicu-dev: Unicode normalisation and case folding (core/unicode.h).
find_package(ICU REQUIRED COMPONENTS uc)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(RABBITMQ REQUIRED IMPORTED_TARGET librabbitmq)
pkg_check_modules(HDF5 REQUIRED IMPORTED_TARGET hdf5)
# libdeflate-dev: whole-buffer inflate, ~2x zlib's (records' kept HDF5 chunks, signal_codec.h).
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
# libxgboost-dev (C API). Its CMake config names /usr/bin/xgboost, which only the `xgboost`
# CLI package ships, so find the library and header directly.
find_library(XGBOOST_LIBRARY NAMES xgboost REQUIRED)
find_path(XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
if(NOT TARGET xgboost::xgboost)
  add_library(xgboost::xgboost SHARED IMPORTED)
  set_target_properties(xgboost::xgboost PROPERTIES
    IMPORTED_LOCATION ${XGBOOST_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${XGBOOST_INCLUDE_DIR})
endif()
if(VIGIL_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()

# Boost headers compile slowly; modules that use Beast/Asio/JSON share one precompiled header.
set(VIGIL_PCH_HEADERS
  <boost/asio.hpp> <boost/beast/core.hpp> <boost/beast/http.hpp>
  <boost/beast/websocket.hpp> <boost/json.hpp>
  <string> <vector> <memory> <functional> <optional> <map> <unordered_map>)
