// Fuzzes what a setuid-root netsetgo does with its command line before it touches anything:
// parse_arguments(), then check() for root and for an ordinary user. The input is the argument
// list, words separated by NUL bytes. --help and std::invalid_argument are the expected ways
// out; any other exception, a crash, a sanitizer report or a broken invariant is a bug.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "argv.hpp"
#include "fuzz_support.hpp"
#include "lease.hpp"
#include "net_config.hpp"

namespace net = nsp::net;

namespace {

constexpr uid_t root = 0, user = 1000;

std::string describe(const net::plan& plan) {
    return "plan pid=" + std::to_string(plan.pid) + " bridge=" + plan.bridge_name + " " +
           plan.bridge.text() + " container=" +
           (plan.container_address ? net::ipv4_cidr{*plan.container_address, 32}.address_text()
                                   : std::string("(leased)")) +
           " prefix=" + plan.veth_prefix + " container_veth=" + plan.container_veth;
}

// check() for `caller`, and what any plan it returns must satisfy.
std::optional<net::plan> checked(const net::settings& settings, uid_t caller,
                                 const std::string& input) {
    std::optional<net::plan> plan;
    try {
        plan = net::check(settings, caller);
    } catch (const std::invalid_argument&) {
        return std::nullopt;
    }
    const std::string where =
        input + "\n  " + describe(*plan) + " caller=" + std::to_string(caller);

    NSP_FUZZ_CHECK(plan->pid == settings.pid && plan->pid >= 1, where);
    // Names the kernel takes and a shell prints safely, within IFNAMSIZ.
    NSP_FUZZ_CHECK(net::valid_interface_name(plan->bridge_name) && plan->bridge_name.size() <= 15,
                   where);
    NSP_FUZZ_CHECK(net::valid_interface_name(plan->veth_prefix, net::max_veth_prefix_length) &&
                       plan->veth_prefix.size() <= 8,
                   where);
    NSP_FUZZ_CHECK(plan->container_veth == plan->veth_prefix + "1", where);
    NSP_FUZZ_CHECK(net::valid_interface_name(plan->container_veth), where);

    // The subnet: /16 to /30, the bridge a host address in it.
    const net::ipv4_cidr& bridge = plan->bridge;
    NSP_FUZZ_CHECK(bridge.prefix_length >= 16 && bridge.prefix_length <= 30, where);
    NSP_FUZZ_CHECK(bridge.contains(bridge.address) && bridge.address != bridge.network() &&
                       bridge.address != bridge.broadcast(),
                   where);
    NSP_FUZZ_CHECK(net::parse_cidr(settings.bridge_address).has_value() &&
                       net::parse_cidr(settings.bridge_address)->text() == bridge.text(),
                   where);

    // Every lease configure() may take names a valid host-side veth, the last one included.
    const uint32_t last_offset = bridge.broadcast() - bridge.network() - 1;
    NSP_FUZZ_CHECK(last_offset >= 2 && last_offset <= 65534, where);
    NSP_FUZZ_CHECK(net::valid_interface_name(net::host_veth_name(plan->veth_prefix, last_offset)),
                   where);
    NSP_FUZZ_CHECK(
        net::lease_of(plan->veth_prefix, net::host_veth_name(plan->veth_prefix, last_offset)) ==
            last_offset,
        where);

    // A fixed container address is a free host address of the subnet: not the network, the
    // broadcast or the bridge's own, so its lease offset is one configure() can take.
    if (plan->container_address) {
        const uint32_t address = *plan->container_address;
        NSP_FUZZ_CHECK(bridge.contains(address), where);
        NSP_FUZZ_CHECK(address != bridge.network() && address != bridge.broadcast() &&
                           address != bridge.address,
                       where);
        const uint32_t offset = address - bridge.network();
        NSP_FUZZ_CHECK(offset >= 1 && offset <= last_offset, where);
    } else {
        NSP_FUZZ_CHECK(settings.container_address.empty(), where);
    }

    // Only root chooses the bridge, the veth prefix or the address: anyone else gets the Go
    // netsetgo's bridge and a leased address on a veth named veth-<n>.
    if (caller != root)
        NSP_FUZZ_CHECK(plan->bridge_name == "brg0" && bridge.text() == "10.10.10.1/24" &&
                           plan->veth_prefix == "veth" && !plan->container_address,
                       where);
    // Names that would make the bridge's /proc/sys/net/ipv6/conf/<name>/ everyone's.
    NSP_FUZZ_CHECK(plan->bridge_name != "all" && plan->bridge_name != "default", where);
    // Every lease name is read back as its address whatever the prefix (any port holds one).
    NSP_FUZZ_CHECK(
        net::lease_of_any(net::host_veth_name(plan->veth_prefix, last_offset)) == last_offset,
        where);
    return plan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const nsp::fuzz::arguments args("netsetgo", data, size);
    const std::string input = "argv: " + args.text();
    try {
        net::settings settings;
        try {
            settings = nsp::netsetgo::parse_arguments(args.argc(), args.argv());
        } catch (const nsp::help_requested& help) {
            NSP_FUZZ_CHECK(std::string(help.what()).starts_with("Usage: netsetgo "), input);
            return 0;
        } catch (const std::invalid_argument& error) {
            NSP_FUZZ_CHECK(*error.what() != '\0', input);
            return 0;
        }
        // parse_arguments() accepts only a pid it can use.
        NSP_FUZZ_CHECK(settings.pid >= 1 && settings.pid <= 4194304, input);

        // The settings spelled out in full with our option names parse to the same settings.
        // ("--name=" with nothing after it is an error in Boost, "--name ''" is not.)
        std::vector<std::string> words = {"netsetgo", "--pid=" + std::to_string(settings.pid)};
        const auto spell = [&words](const std::string& name, const std::string& value) {
            if (value.empty())
                words.insert(words.end(), {"--" + name, value});
            else
                words.push_back("--" + name + "=" + value);
        };
        spell("bridge-name", settings.bridge_name);
        spell("bridge-address", settings.bridge_address);
        spell("veth-prefix", settings.veth_prefix);
        if (!settings.container_address.empty())
            spell("container-address", settings.container_address);
        std::vector<const char*> argv;
        for (const std::string& word : words)
            argv.push_back(word.c_str());
        argv.push_back(nullptr);
        const net::settings again =
            nsp::netsetgo::parse_arguments(static_cast<int>(words.size()), argv.data());
        NSP_FUZZ_CHECK(again.pid == settings.pid && again.bridge_name == settings.bridge_name &&
                           again.bridge_address == settings.bridge_address &&
                           again.container_address == settings.container_address &&
                           again.veth_prefix == settings.veth_prefix,
                       input);

        const std::optional<net::plan> as_root = checked(settings, root, input);
        const std::optional<net::plan> as_user = checked(settings, user, input);
        // An ordinary user may never do more than root.
        if (as_user) {
            NSP_FUZZ_CHECK(as_root.has_value(), input);
            NSP_FUZZ_CHECK(describe(*as_user) == describe(*as_root), input);
        }
    } catch (...) {
        nsp::fuzz::unexpected(std::current_exception(), input);
    }
    return 0;
}
