#include "netsetgo_setup.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "capability.hpp"
#include "error.hpp"
#include "netlink.hpp"
#include "netns.hpp"
#include "options.hpp"
#include "trace.hpp"

namespace po = boost::program_options;

namespace nsp::netsetgo {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw std::invalid_argument("refused " + why); }

// The start of the file `name` in `directory` (the path `directory_path`, for errors).
std::string read_at(int directory, const char* name, const std::string& directory_path) {
    const std::string path = directory_path + "/" + name;
    const unique_fd file(::openat(directory, name, O_RDONLY | O_CLOEXEC));
    if (!file) throw_errno("open " + path);
    std::string content(4096, '\0');
    const ssize_t n = ::read(file.get(), content.data(), content.size());
    if (n < 0) throw_errno("read " + path);
    content.resize(static_cast<size_t>(n));
    return content;
}

// The real uid from a /proc/<pid>/status text ("Uid:\treal\teffective\tsaved\tfs").
uid_t real_uid_in(const std::string& status) {
    const size_t line = status.find("\nUid:\t");
    if (line == std::string::npos) throw std::runtime_error("no Uid line in /proc status");
    return static_cast<uid_t>(std::stoul(status.substr(line + 6)));
}

bool same_file(int fd, const char* path) {
    struct stat a {
    }, b{};
    return ::fstat(fd, &a) == 0 && ::stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

constexpr uint64_t needed_capabilities =
    capability::bit(CAP_NET_ADMIN) | capability::bit(CAP_SYS_ADMIN);

// Nothing netsetgo makes on the host side may learn from a container: a router advertisement
// sent from one would otherwise give the host a default route and an address via the
// bridge. The tutorial network is IPv4 only, so IPv6 is off on those links altogether
// (accept_ra and autoconf off too, in case a later change turns it back on).
void keep_ipv6_off(const std::string& link) {
    for (const auto& [key, value] :
         {std::pair{"accept_ra", "0"}, std::pair{"autoconf", "0"}, std::pair{"disable_ipv6", "1"}})
        if (!netns::write_ipv6_setting(link, key, value)) return;  // a kernel without IPv6
}

// The bridge, made if missing and reused if present: IPv6 off, the bridge address, up.
//
// Each run repairs the bridge in that order before it adds a port, and a bridge is made down
// and without ports. A run killed half-way (SIGKILL can always come) therefore leaves at most
// a bridge no container is connected to, down or without its address, which the next run
// completes before it connects anything; and an existing bridge that a previous version left
// learning from router advertisements is fixed the same way.
int ensure_bridge(const netlink::socket& host, const net::plan& plan) {
    std::optional<netlink::link> bridge = netlink::find_link(host, plan.bridge_name);
    if (!bridge) {
        netlink::create_bridge(host, plan.bridge_name);  // false: another netsetgo just did
        bridge = netlink::find_link(host, plan.bridge_name);
        if (!bridge) throw_error(ENODEV, "find bridge " + plan.bridge_name);
    }
    if (bridge->type != "bridge")
        throw std::runtime_error(plan.bridge_name + " exists and is not a bridge");
    keep_ipv6_off(plan.bridge_name);
    netlink::add_address(host, bridge->index, plan.bridge);  // false: it has it already
    if (!bridge->up) netlink::set_up(host, bridge->index);
    return bridge->index;
}

// The user's leases: host-side veths on the bridge in the device group of their uid. Only
// netsetgo (or root) can set a link's group in this namespace, so the kernel's own list of
// links is the ledger: nothing on disk to go stale, and a lease leaves it with the container.
size_t leases_held(const std::vector<netlink::link>& ports, uid_t user, int up_to_index) {
    return static_cast<size_t>(
        std::count_if(ports.begin(), ports.end(), [&](const netlink::link& port) {
            return port.type == "veth" && port.group == user && port.index <= up_to_index;
        }));
}

[[noreturn]] void refuse_over_limit(uid_t user, const lease_limit& limit,
                                    const std::string& bridge) {
    refuse("uid " + std::to_string(user) + ": it already has " + std::to_string(limit.leases) +
           " container" + (limit.leases == 1 ? "" : "s") + " on " + bridge + ", its limit (" +
           limit.source + "); root can raise it in " + usernet_path + " with a line '" +
           std::to_string(user) + " <number>' (see README)");
}

std::vector<netlink::link> ports_of(const netlink::socket& host, int bridge_index) {
    std::vector<netlink::link> ports = netlink::links(host);
    std::erase_if(ports, [&](const netlink::link& link) { return link.master != bridge_index; });
    return ports;
}

}  // namespace

void keep_only_needed_capabilities(uid_t caller) {
    // The kernel lets a process open another's namespaces only when it holds every capability
    // that one has, or CAP_SYS_PTRACE: without it, root could not reach a process of its own
    // that runs with all of root's capabilities (say, `unshare --net sleep`). Other callers
    // only reach their own processes, which have no more capabilities than they do.
    const uint64_t kept =
        needed_capabilities | (caller == 0 ? capability::bit(CAP_SYS_PTRACE) : uint64_t{0});
    capability::set(capability::permitted() & kept, capability::effective() & kept);
}

net::settings parse_arguments(int argc, const char* const argv[]) {
    net::settings settings;
    std::string pid, bridge_go, bridge_address_go, container_address_go, prefix_go;
    std::vector<std::string> left_over;
    bool trace = false;
    std::int64_t trace_start = 0;
    po::options_description options("Options");
    options.add_options()("help,h", "print this help and exit")(
        "pid", po::value(&pid), "the pid of a process in the container's network namespace")(
        "bridge-name", po::value(&settings.bridge_name)->default_value(settings.bridge_name),
        "the bridge in the caller's network namespace (root only)")(
        "bridge-address",
        po::value(&settings.bridge_address)->default_value(settings.bridge_address),
        "the bridge's address and subnet (root only)")(
        "container-address", po::value(&settings.container_address),
        "the container's address (default: the first free one after the bridge's)")(
        "veth-prefix", po::value(&settings.veth_prefix)->default_value(settings.veth_prefix),
        "names: <prefix>1 in the container, <prefix>-<n> on the bridge")(
        "trace", po::bool_switch(&trace), "print each netlink request to stderr as it is sent")(
        "trace-start", po::value(&trace_start),
        "with --trace: count times from this CLOCK_MONOTONIC instant in ns (step05 passes "
        "its own start, so one trace shows both programs)");
    po::options_description go_spellings;
    go_spellings.add_options()("bridgeName", po::value(&bridge_go))("bridgeAddress",
                                                                    po::value(&bridge_address_go))(
        "containerAddress", po::value(&container_address_go))("vethNamePrefix",
                                                              po::value(&prefix_go));
    // Words that are no option's value land here, to be refused: "--pid 5 -- --bridge-name x"
    // must not look like it did something with the bridge name.
    go_spellings.add_options()("left-over", po::value(&left_over));
    po::options_description all;
    all.add(options).add(go_spellings);

    const po::variables_map values = parse_argv(argc, argv, all, "left-over");
    if (values.count("help") != 0) {
        std::ostringstream help;
        help << "Usage: netsetgo --pid PID [OPTIONS]\n"
                "Connect the network namespace of PID to a bridge in ours: a veth pair, "
                "an address,\na default route and lo up. Meant to be installed setuid "
                "root (chown root; chmod 4755).\n\n"
             << options
             << "\nThe Go netsetgo's spellings -bridgeName -bridgeAddress "
                "-containerAddress -vethNamePrefix\nare accepted too.\n";
        throw help_requested(help.str());
    }
    if (trace) {
        trace::enable(trace::level::steps, trace_start);
        trace::become_netsetgo();
    }
    const std::pair<const std::string&, std::string&> go_to_ours[] = {
        {bridge_go, settings.bridge_name},
        {bridge_address_go, settings.bridge_address},
        {container_address_go, settings.container_address},
        {prefix_go, settings.veth_prefix}};
    for (const auto& [go, ours] : go_to_ours)
        if (!go.empty()) ours = go;
    if (!left_over.empty())
        throw std::invalid_argument("unexpected argument '" + left_over.front() +
                                    "': netsetgo takes only options (try --help)");
    if (pid.empty()) throw std::invalid_argument("--pid is required (try --help)");
    const std::optional<pid_t> parsed = net::parse_pid(pid);
    if (!parsed) throw std::invalid_argument("bad --pid '" + pid + "': want a process id");
    settings.pid = *parsed;
    return settings;
}

void drop_to_caller(uid_t caller) {
    if (geteuid() == 0 && caller != 0 && ::seteuid(caller) != 0)
        throw_errno("switch to the caller's uid");
}

privileged_section::privileged_section(uid_t caller) : caller_(caller) {
    uid_t real = 0, effective = 0, saved = 0;
    getresuid(&real, &effective, &saved);
    if (effective != 0 && saved != 0) return;  // neither root nor setuid: the kernel decides
    // Back to euid 0, which makes the permitted set (already cut to two) effective again.
    if (effective != 0 && ::seteuid(0) != 0) throw_errno("regain root for the network set-up");
}

privileged_section::~privileged_section() {
    const gid_t group = getgid();
    if (::setresgid(group, group, group) != 0 || ::setresuid(caller_, caller_, caller_) != 0)
        std::abort();
}

target open_target(pid_t pid, uid_t caller) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string refused = "pid " + std::to_string(pid) + ": ";
    // Only the errors that mean "gone" or "not yours" are refusals; anything else (EMFILE,
    // ENOMEM, ...) is reported as itself.
    const auto refuse_or_fail = [&](int gone, int not_yours, const std::string& operation,
                                    const std::string& not_yours_text) {
        if (errno == gone) refuse(refused + "no such process");
        if (errno == not_yours) refuse(refused + not_yours_text);
        throw_errno(operation);
    };
    // The pidfd pins the process: its pid cannot name another process while we hold it.
    const unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) refuse_or_fail(ESRCH, ESRCH, "pidfd_open " + std::to_string(pid), "");
    const unique_fd proc_dir(::open(proc.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC));
    if (!proc_dir) refuse_or_fail(ENOENT, ENOENT, "open " + proc, "");
    // Still alive after /proc/<pid> was opened, so that directory is this process's.
    // Signal 0 checks permission too: only the owner (or root) may signal a process.
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) != 0)
        refuse_or_fail(ESRCH, EPERM, "signal " + std::to_string(pid), "it is not your process");
    if (caller != 0 && real_uid_in(read_at(proc_dir.get(), "status", proc)) != caller)
        refuse(refused + "it is not your process");

    unique_fd netns(::openat(proc_dir.get(), "ns/net", O_RDONLY | O_CLOEXEC));
    if (!netns && errno == EPERM) errno = EACCES;
    if (!netns)
        refuse_or_fail(ENOENT, EACCES, "open " + proc + "/ns/net",
                       "you may not open its network namespace");
    if (same_file(netns.get(), "/proc/self/ns/net"))
        refuse(refused + "it is in your own network namespace");
    if (caller != 0) {
        // The namespace must belong to a user namespace the caller made (as step05's
        // clone(CLONE_NEWUSER|CLONE_NEWNET) does), not one someone else set up.
        const unique_fd owner(::ioctl(netns.get(), NS_GET_USERNS));
        if (!owner) throw_errno("find the user namespace of " + proc + "/ns/net");
        uid_t owner_uid = 0;
        if (::ioctl(owner.get(), NS_GET_OWNER_UID, &owner_uid) != 0)
            throw_errno("find the owner of the user namespace of " + proc + "/ns/net");
        if (owner_uid != caller)
            refuse(refused + "its network namespace belongs to a user namespace you do not own");
    }
    return target{pid, std::move(netns)};
}

outcome configure(const net::plan& plan, const target& target, uid_t caller,
                  const lease_limit& limit) {
    const netlink::socket host;
    const int bridge_index = ensure_bridge(host, plan);
    const bool limited = caller != 0;

    // Leases: the host-side veth "<prefix>-<n>" holds the subnet's n-th address. Creating it
    // is atomic (EEXIST if another netsetgo got there first), and the kernel deletes it when
    // the container's network namespace goes away, so an exited container's lease is freed
    // with nothing left on disk to clean up. Any port named "<anything>-<n>" holds n.
    std::vector<netlink::link> ports = ports_of(host, bridge_index);
    if (limited && leases_held(ports, caller, INT_MAX) >= limit.leases)
        refuse_over_limit(caller, limit, plan.bridge_name);
    std::set<uint32_t> taken = {plan.bridge.address - plan.bridge.network()};
    for (const netlink::link& port : ports)
        if (const auto offset = net::lease_of_any(port.name)) taken.insert(*offset);
    const uint32_t last = plan.bridge.broadcast() - plan.bridge.network() - 1;
    uint32_t offset = 0;
    std::string host_veth;
    int host_veth_index = 0;
    for (uint32_t candidate = 1; candidate <= last && host_veth.empty(); ++candidate) {
        if (plan.container_address && candidate != *plan.container_address - plan.bridge.network())
            continue;
        if (taken.count(candidate) != 0) continue;
        const std::string name = net::host_veth_name(plan.veth_prefix, candidate);
        // The article creates the pair on the host and then moves one end into the container
        // (RTM_NEWLINK with IFLA_NET_NS_PID on an existing link), which waits on the kernel
        // to tear the device down and bring it up again in the new namespace (~26 ms here).
        // Naming the peer's namespace at creation builds it there directly (~4 ms). The host
        // end is made down, in the caller's device group: until it is up, the container's
        // frames go nowhere, so a run killed before the end leaves nothing that carries them.
        try {
            if (!netlink::create_veth_pair(host, name, bridge_index, caller, plan.container_veth,
                                           target.netns.get()))
                continue;
        } catch (const std::system_error& error) {
            if (error.code().value() != EXFULL) throw;
            throw_error(EXFULL, "connect a port to " + plan.bridge_name + ": the bridge is full (" +
                                    std::to_string(ports.size()) +
                                    " ports, the most the kernel allows a bridge)");
        }
        // Another netsetgo may have leased the same address under another name, or the same
        // user may have asked twice at once: the older link (lower index) wins, so exactly one
        // of two racing calls keeps each address, and a user's leases stay within the limit.
        ports = ports_of(host, bridge_index);
        const auto ours = std::find_if(ports.begin(), ports.end(), [&](const netlink::link& port) {
            return port.name == name;
        });
        if (ours == ports.end()) throw_error(ENODEV, "find " + name + " on " + plan.bridge_name);
        const bool address_lost =
            std::any_of(ports.begin(), ports.end(), [&](const netlink::link& port) {
                return port.index < ours->index && net::lease_of_any(port.name) == candidate;
            });
        const bool over_limit = limited && leases_held(ports, caller, ours->index) > limit.leases;
        if (address_lost || over_limit) {
            netlink::delete_link(host, name);
            if (over_limit) refuse_over_limit(caller, limit, plan.bridge_name);
            continue;
        }
        host_veth = name;
        host_veth_index = ours->index;
        offset = candidate;
    }
    if (host_veth.empty() && plan.container_address)
        throw_error(EADDRINUSE, "lease " +
                                    net::ipv4_cidr{*plan.container_address, 32}.address_text() +
                                    " on " + plan.bridge_name);
    if (host_veth.empty())
        throw std::runtime_error("the subnet " + plan.bridge.text() + " of " + plan.bridge_name +
                                 " is full: " + std::to_string(last - 1) + " of " +
                                 std::to_string(last - 1) + " container addresses are in use");

    const net::ipv4_cidr container{plan.bridge.network() + offset, plan.bridge.prefix_length};
    try {
        // The host end passes nothing to other containers' ports and learns nothing, before
        // it carries a frame.
        netlink::isolate_bridge_port(host, host_veth_index);
        keep_ipv6_off(host_veth);
        {
            const netns::in_network_namespace inside(target.netns.get());
            const netlink::socket container_socket;
            netlink::set_up(container_socket, netlink::loopback_index);
            const std::optional<netlink::link> veth =
                netlink::find_link(container_socket, plan.container_veth);
            if (!veth) throw_error(ENODEV, "find " + plan.container_veth + " in the container");
            netlink::add_address(container_socket, veth->index, container);
            netlink::set_up(container_socket, veth->index);
            netlink::add_default_route(container_socket, veth->index, plan.bridge.address);
        }
        netlink::set_up(host, host_veth_index);
    } catch (...) {
        netlink::delete_link(host, host_veth);  // the container's end goes with it
        throw;
    }
    return outcome{host_veth, container};
}

}  // namespace nsp::netsetgo
