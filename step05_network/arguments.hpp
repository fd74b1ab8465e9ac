// netsetgo's command line: --pid, --bridge-name, --bridge-address, --container-address,
// --veth-prefix, and the Go netsetgo's spellings -pid -bridgeName -bridgeAddress
// -containerAddress -vethNamePrefix. Everything in it comes from the caller, so it is parsed
// after root's capabilities are cut (privilege.hpp) and checked by net::check before use.
#pragma once

#include "net_config.hpp"

namespace nsp::netsetgo {

// Parses netsetgo's options. Throws help_requested (argv.hpp) for --help and
// std::invalid_argument for anything malformed, unknown or left over.
net::settings parse_arguments(int argc, const char* const argv[]);

}  // namespace nsp::netsetgo
