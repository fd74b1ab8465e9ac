#include "net_config.hpp"

#include <charconv>
#include <stdexcept>

namespace nsp::net {

namespace {

template <typename Number>
std::optional<Number> parse_decimal(std::string_view text, Number max) {
    if (text.empty() || text.size() > 10 || text.front() < '0' || text.front() > '9')
        return std::nullopt;
    if (text.size() > 1 && text.front() == '0') return std::nullopt;  // no octal look-alikes
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value > max)
        return std::nullopt;
    return value;
}

}  // namespace

std::optional<ipv4_cidr> parse_cidr(std::string_view text) {
    const size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view address_part = text.substr(0, slash);
    uint32_t address = 0;
    size_t start = 0;
    for (int octet = 0; octet < 4; ++octet) {
        const size_t end = octet < 3 ? address_part.find('.', start) : address_part.size();
        if (end == std::string_view::npos) return std::nullopt;
        const auto value = parse_decimal<uint32_t>(address_part.substr(start, end - start), 255);
        if (!value) return std::nullopt;
        address = (address << 8) | *value;
        start = end + 1;
    }
    const auto prefix = parse_decimal<int>(text.substr(slash + 1), 32);
    if (!prefix) return std::nullopt;
    return ipv4_cidr{address, *prefix};
}

std::optional<pid_t> parse_pid(std::string_view text) {
    const auto pid = parse_decimal<pid_t>(text, 4194304);  // PID_MAX_LIMIT
    if (!pid || *pid < 1) return std::nullopt;
    return pid;
}

bool valid_interface_name(std::string_view name, size_t max_length) {
    if (name.empty() || name.size() > max_length || name == "." || name == "..") return false;
    for (const char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!allowed) return false;
    }
    return true;
}

namespace {

// --container-address, when given: a free host address in the bridge's subnet.
std::optional<uint32_t> container_address_in(const std::string& text, const ipv4_cidr& bridge) {
    if (text.empty()) return std::nullopt;
    const auto container = parse_cidr(text);
    if (!container)
        throw std::invalid_argument("bad --container-address: want an IPv4 CIDR a.b.c.d/n");
    if (container->prefix_length != bridge.prefix_length || !bridge.contains(container->address) ||
        container->address == bridge.address || container->address == bridge.network() ||
        container->address == bridge.broadcast())
        throw std::invalid_argument("bad --container-address: " + container->text() +
                                    " is not a free host address in " + bridge.text());
    return container->address;
}

// Root may build any bridge; anyone else gets the one an administrator would expect, and
// leases names and addresses, never chooses them.
void check_caller_may_choose(const settings& request, uid_t caller) {
    const settings defaults;
    if (caller == 0) return;
    if (request.bridge_name != defaults.bridge_name ||
        request.bridge_address != defaults.bridge_address)
        throw std::invalid_argument("only root may choose the bridge: unprivileged callers get " +
                                    defaults.bridge_name + " " + defaults.bridge_address);
    if (request.veth_prefix != defaults.veth_prefix || !request.container_address.empty())
        throw std::invalid_argument(
            "only root may choose the veth prefix or the container address: unprivileged "
            "callers get the first free address, on a veth named " +
            defaults.veth_prefix + "-<n>");
}

}  // namespace

plan check(const settings& request, uid_t caller) {
    if (request.pid < 1) throw std::invalid_argument("--pid is required: the container's pid");
    if (!valid_interface_name(request.bridge_name))
        throw std::invalid_argument("bad --bridge-name: want 1-15 characters of A-Z a-z 0-9 _ . -");
    if (!valid_interface_name(request.veth_prefix, max_veth_prefix_length))
        throw std::invalid_argument("bad --veth-prefix: want 1-8 characters of A-Z a-z 0-9 _ . -");
    // The bridge's IPv6 settings live in /proc/sys/net/ipv6/conf/<name>/, where these two
    // names are the settings of every link and of links to come.
    if (request.bridge_name == "all" || request.bridge_name == "default")
        throw std::invalid_argument("bad --bridge-name: '" + request.bridge_name +
                                    "' names the settings of all links in /proc/sys/net");

    const auto bridge = parse_cidr(request.bridge_address);
    if (!bridge) throw std::invalid_argument("bad --bridge-address: want an IPv4 CIDR a.b.c.d/n");
    if (bridge->prefix_length < min_prefix_length || bridge->prefix_length > max_prefix_length)
        throw std::invalid_argument("bad --bridge-address: the prefix length must be 16 to 30");
    if (bridge->address == bridge->network() || bridge->address == bridge->broadcast())
        throw std::invalid_argument("bad --bridge-address: " + bridge->text() +
                                    " is the subnet's network or broadcast address");
    const std::optional<uint32_t> container_address =
        container_address_in(request.container_address, *bridge);
    check_caller_may_choose(request, caller);
    return plan{request.pid,       request.bridge_name, *bridge,
                container_address, request.veth_prefix, request.veth_prefix + "1"};
}

std::string host_veth_name(std::string_view prefix, uint32_t offset) {
    return std::string(prefix) + "-" + std::to_string(offset);
}

std::optional<uint32_t> lease_of(std::string_view prefix, std::string_view veth_name) {
    if (!veth_name.starts_with(prefix) || veth_name.size() < prefix.size() + 2 ||
        veth_name[prefix.size()] != '-')
        return std::nullopt;
    return parse_decimal<uint32_t>(veth_name.substr(prefix.size() + 1), 65535);
}

std::optional<uint32_t> lease_of_any(std::string_view link_name) {
    const size_t dash = link_name.rfind('-');
    if (dash == std::string_view::npos || !valid_interface_name(link_name.substr(0, dash)))
        return std::nullopt;
    return lease_of(link_name.substr(0, dash), link_name);
}

}  // namespace nsp::net
