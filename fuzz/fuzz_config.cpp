// The INI config reader, with every key the CLI declares (built-ins and their ranges).
#include "fuzz_util.h"
#include "seqrec/config.h"
#include "seqrec/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  seqrec::register_builtins();
  const std::string& path = seqrec::fuzz::write_input({reinterpret_cast<const char*>(data), size}, ".ini");
  return seqrec::fuzz::refuse_or_read([&] {
    seqrec::Config c(seqrec::schema());
    if (seqrec::parse_config({"--config", path}, &c, nullptr)) c.hash();
  });
}
