// Outside input: a .env file's text.
#include <cstdint>
#include <string>

#include "core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = vigil::parse_dotenv(text);
  if (parsed.ok()) {
    for (const auto& [name, value] : *parsed) (void)vigil::env_name_to_key(name);
  }
  return 0;
}
