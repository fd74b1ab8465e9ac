// Fuzzes the checks netsetgo's arguments go through (step05_network/net_config.hpp) on arbitrary
// text: parse_cidr, parse_pid, valid_interface_name, the host-side veth name <-> lease offset
// mapping the address leases rest on, and the lease limits of /etc/netsetgo.conf
// (usernet.hpp). None of them may throw; what they accept must round-trip.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "net_config.hpp"
#include "usernet.hpp"

namespace net = nsp::net;

namespace {

// What the kernel's dev_valid_name() refuses, independently of valid_interface_name().
bool kernel_accepts(std::string_view name) {
    if (name.empty() || name.size() >= 16 || name == "." || name == "..") return false;
    for (const unsigned char c : name)
        if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r') || c == '\0') return false;
    return true;
}

void cidr(std::string_view text, const std::string& input) {
    const auto parsed = net::parse_cidr(text);
    if (!parsed) return;
    const std::string where = input + "\n  parsed: " + parsed->text();
    NSP_FUZZ_CHECK(parsed->prefix_length >= 0 && parsed->prefix_length <= 32, where);
    // Strict parsing accepts only the canonical spelling, which text() gives back.
    NSP_FUZZ_CHECK(parsed->text() == text, where);
    const auto again = net::parse_cidr(parsed->text());
    NSP_FUZZ_CHECK(
        again && again->address == parsed->address && again->prefix_length == parsed->prefix_length,
        where);
    // The subnet arithmetic (prefix 0 and 32 included, where a naive shift is undefined).
    const uint32_t mask = parsed->netmask();
    NSP_FUZZ_CHECK(
        mask == (parsed->prefix_length == 0
                     ? 0u
                     : static_cast<uint32_t>(uint64_t{0xffffffff} << (32 - parsed->prefix_length))),
        where);
    NSP_FUZZ_CHECK(parsed->network() <= parsed->address && parsed->address <= parsed->broadcast(),
                   where);
    NSP_FUZZ_CHECK(parsed->contains(parsed->address) && parsed->contains(parsed->network()) &&
                       parsed->contains(parsed->broadcast()),
                   where);
    NSP_FUZZ_CHECK(parsed->broadcast() - parsed->network() == ~mask, where);
}

void pid(std::string_view text, const std::string& input) {
    const auto parsed = net::parse_pid(text);
    if (!parsed) return;
    const std::string where = input + "\n  parsed: " + std::to_string(*parsed);
    NSP_FUZZ_CHECK(*parsed >= 1 && *parsed <= 4194304, where);
    NSP_FUZZ_CHECK(std::to_string(*parsed) == text, where);  // decimal, nothing else
}

void interface_name(std::string_view text, const std::string& input) {
    for (const size_t max_length : {size_t{1}, net::max_veth_prefix_length, size_t{15}}) {
        if (!net::valid_interface_name(text, max_length)) continue;
        const std::string where = input + "\n  max_length " + std::to_string(max_length);
        NSP_FUZZ_CHECK(!text.empty() && text.size() <= max_length, where);
        NSP_FUZZ_CHECK(kernel_accepts(text), where);
        NSP_FUZZ_CHECK(text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_.-") == std::string_view::npos,
                       where);
        NSP_FUZZ_CHECK(net::valid_interface_name(text, 15), where);  // shorter limits only narrow
    }
}

// The lease a host-side veth holds and the name of a lease map one to one.
void lease(std::string_view prefix, std::string_view name, uint32_t offset,
           const std::string& input) {
    const std::string where = input + "\n  prefix '" + nsp::fuzz::quoted(prefix) + "' name '" +
                              nsp::fuzz::quoted(name) + "' offset " + std::to_string(offset);
    if (const auto held = net::lease_of(prefix, name)) {
        NSP_FUZZ_CHECK(*held <= 65535, where);
        NSP_FUZZ_CHECK(net::host_veth_name(prefix, *held) == name, where);
    }
    const std::string veth = net::host_veth_name(prefix, offset);
    const auto back = net::lease_of(prefix, veth);
    NSP_FUZZ_CHECK(offset <= 65535 ? back == offset : !back.has_value(), where);
    // A valid prefix always leaves room for the largest lease of a /16.
    if (net::valid_interface_name(prefix, net::max_veth_prefix_length) && offset <= 65534)
        NSP_FUZZ_CHECK(net::valid_interface_name(veth), where);
}

// Any text as /etc/netsetgo.conf: a limit always comes out, within what a line can say, and
// adding a line for the user himself at the end decides it.
void usernet(std::string_view text, const std::string& input) {
    const nsp::netsetgo::caller_identity who{1000, {1000, 27}, {"alice"}, {"alice", "sudo"}};
    std::vector<std::string> ignored;
    const nsp::netsetgo::lease_limit limit = nsp::netsetgo::limit_in(text, who, ignored);
    NSP_FUZZ_CHECK(limit.leases <= 65535 && !limit.source.empty(), input);
    const std::string with_own = std::string(text) + "\nalice 7\n";
    ignored.clear();
    NSP_FUZZ_CHECK(nsp::netsetgo::limit_in(with_own, who, ignored).leases == 7, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string input = "input: '" + nsp::fuzz::quoted(text) + "'";
    try {
        cidr(text, input);
        pid(text, input);
        interface_name(text, input);
        usernet(text, input);

        // For the leases: "<prefix>\0<name>" (or the default prefix when there is no NUL), and
        // an offset from the input's first four bytes.
        const size_t nul = text.find('\0');
        const std::string_view prefix =
            nul == std::string_view::npos ? "veth" : text.substr(0, nul);
        const std::string_view name = nul == std::string_view::npos ? text : text.substr(nul + 1);
        uint32_t offset = 0;
        if (size > 0) std::memcpy(&offset, data, size < sizeof offset ? size : sizeof offset);
        lease(prefix, name, offset, input);
        lease(prefix, name, offset % 65536, input);
    } catch (...) {
        nsp::fuzz::unexpected(std::current_exception(), input);
    }
    return 0;
}
