// netsetgo: the argument checks (unit tests) and the setuid-root helper refusing abuse.
// Every run happens in a network namespace the test made; a refused call must leave that
// namespace's links, addresses and routes exactly as they were.
#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "harness.hpp"
#include "net_config.hpp"

using namespace nsp::test;
using nsp::net::parse_cidr;
using nsp::net::parse_pid;
using nsp::net::valid_interface_name;

namespace {

TEST(Cidr, ParsesStrictDottedQuads) {
    const auto cidr = parse_cidr("10.10.10.1/24");
    ASSERT_TRUE(cidr.has_value());
    EXPECT_EQ(cidr->address, 0x0a0a0a01u);
    EXPECT_EQ(cidr->prefix_length, 24);
    EXPECT_EQ(cidr->network(), 0x0a0a0a00u);
    EXPECT_EQ(cidr->broadcast(), 0x0a0a0affu);
    EXPECT_EQ(cidr->text(), "10.10.10.1/24");
    for (const char* bad :
         {"", "10.10.10.1", "10.10.10.1/", "10.10.10/24", "10.10.10.1.1/24", "10.10.10.256/24",
          "010.10.10.1/24", "10.10.10.1/33", "10.10.10.1/024", " 10.10.10.1/24", "10.10.10.1/24 ",
          "-1.10.10.1/24", "a.b.c.d/24", "10.10.10.1/-1", "10..10.1/24", "99999999999.1.1.1/8"})
        EXPECT_FALSE(parse_cidr(bad).has_value()) << bad;
}

TEST(Pid, OnlyPlainPositiveDecimals) {
    EXPECT_EQ(parse_pid("1"), 1);
    EXPECT_EQ(parse_pid("4194304"), 4194304);
    for (const char* bad :
         {"", "0", "-1", "+5", " 5", "5 ", "12a", "0x10", "010", "4194305", "99999999999999999999"})
        EXPECT_FALSE(parse_pid(bad).has_value()) << bad;
}

TEST(InterfaceName, FitsIfnamsizAndASafeAlphabet) {
    EXPECT_TRUE(valid_interface_name("brg0"));
    EXPECT_TRUE(valid_interface_name("a234567890abcde"));  // 15 characters
    for (const char* bad :
         {"", ".", "..", "a234567890abcdef", "br/0", "br 0", "br;rm", "br:0", "br\n0", "b\xc3\xa9"})
        EXPECT_FALSE(valid_interface_name(bad)) << bad;
}

TEST(Check, DefaultsAreTheGoNetsetgos) {
    nsp::net::settings request;
    request.pid = 42;
    const nsp::net::plan plan = nsp::net::check(request, 1000);
    EXPECT_EQ(plan.bridge_name, "brg0");
    EXPECT_EQ(plan.bridge.text(), "10.10.10.1/24");
    EXPECT_FALSE(plan.container_address.has_value());
    EXPECT_EQ(plan.container_veth, "veth1");
}

TEST(Check, OnlyRootChoosesTheBridge) {
    nsp::net::settings request;
    request.pid = 42;
    request.bridge_address = "192.168.1.1/24";
    EXPECT_THROW(nsp::net::check(request, 1000), std::invalid_argument);
    EXPECT_EQ(nsp::net::check(request, 0).bridge.text(), "192.168.1.1/24");
    request = {};
    request.pid = 42;
    request.bridge_name = "docker0";
    EXPECT_THROW(nsp::net::check(request, 1000), std::invalid_argument);
}

TEST(Check, ContainerAddressMustBeAFreeHostInTheSubnet) {
    nsp::net::settings request;
    request.pid = 42;
    for (const char* bad : {"10.10.11.2/24", "10.10.10.1/24", "10.10.10.0/24", "10.10.10.255/24",
                            "10.10.10.2/16", "nonsense"}) {
        request.container_address = bad;
        EXPECT_THROW(nsp::net::check(request, 0), std::invalid_argument) << bad;
    }
    request.container_address = "10.10.10.7/24";
    EXPECT_EQ(nsp::net::check(request, 0).container_address, 0x0a0a0a07u);
}

TEST(Leases, HostVethNamesEncodeTheAddress) {
    EXPECT_EQ(nsp::net::host_veth_name("veth", 2), "veth-2");
    EXPECT_EQ(nsp::net::lease_of("veth", "veth-254"), 254u);
    EXPECT_FALSE(nsp::net::lease_of("veth", "veth1").has_value());
    EXPECT_FALSE(nsp::net::lease_of("veth", "vethx-2").has_value());
    EXPECT_FALSE(nsp::net::lease_of("veth", "veth-").has_value());
}

// Two uids no account and no process on this machine uses, for tests that need two users
// who are not each other (setpriv takes numeric ids: no account is created).
std::pair<uid_t, uid_t> two_unused_uids() {
    std::set<uid_t> used;
    for (const std::string& line : lines_of(sh("getent passwd; ps -e -o uid=").out))
        if (const size_t colon = line.find(':'); colon != std::string::npos) {
            const size_t uid = line.find(':', colon + 1);
            used.insert(static_cast<uid_t>(std::stoul(line.substr(uid + 1))));
        } else if (line.find_first_not_of(' ') != std::string::npos) {
            used.insert(static_cast<uid_t>(std::stoul(line)));
        }
    uid_t first = 61000;
    while (used.count(first) != 0 || used.count(first + 1) != 0)
        first += 2;
    return {first, first + 1};
}

// The helper, run as the harness installs it: setuid root in a 0755 directory.
class NetsetgoAbuse : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const std::string reason = cannot_run_as(as::root); !reason.empty())
            GTEST_SKIP() << reason << " (needs a setuid-root copy and a network namespace)";
    }
    // Shell text for every script: "$NSG" is the helper, "$AS_USER" drops to uid 65534,
    // "$AS_U1" and "$AS_U2" to two unused uids ($U1, $U2). `container VAR [AS...]` starts a
    // process in new user and network namespaces (as the user AS... names, as step05 would)
    // and puts its pid in VAR; whatever it started is killed when the script ends.
    std::string preamble() const {
        const auto [u1, u2] = two_unused_uids();
        const auto as = [](uid_t uid) {
            const std::string id = std::to_string(uid);
            return "'/usr/bin/setpriv --reuid=" + id + " --regid=" + id + " --clear-groups'";
        };
        return "NSG=" + copy->bin("netsetgo") + "; AS_USER=" + as(65534) +
               "; U1=" + std::to_string(u1) + "; AS_U1=" + as(u1) + "; U2=" + std::to_string(u2) +
               "; AS_U2=" + as(u2) +
               "; cd /\n"
               "started=; trap 'kill $started 2>/dev/null' EXIT\n"
               "container() {\n"
               "  var=$1; shift\n"
               "  \"$@\" unshare --user --map-root-user --net sleep 600 >/dev/null 2>&1 &\n"
               "  eval $var=$!; started=\"$started $!\"\n"
               "  while [ \"$(readlink /proc/$!/ns/net)\" = \"$(readlink /proc/self/ns/net)\" ]; "
               "do\n"
               "    sleep 0.01; done\n"
               "}\n";
    }
    // Runs `calls` (one netsetgo call per line) in a fresh network namespace, between two
    // snapshots of its network. Prints each call's exit status.
    result abuse(const std::string& calls) {
        const std::string snapshot = "{ ip -o link; ip -o addr; ip route; }";
        const std::string script = preamble() + snapshot + " > /tmp/nsp-before-$$\n" + calls +
                                   "\n" + snapshot +
                                   " > /tmp/nsp-after-$$\n"
                                   "cmp -s /tmp/nsp-before-$$ /tmp/nsp-after-$$ && echo "
                                   "network-unchanged\n"
                                   "rm -f /tmp/nsp-before-$$ /tmp/nsp-after-$$\n";
        return run("/bin/sh", {"-c", script}, {.own_network_namespace = true});
    }
    // Runs `script` in a fresh network namespace, after the preamble.
    result in_fresh_network(const std::string& script) {
        return run("/bin/sh", {"-c", preamble() + script},
                   {.own_network_namespace = true, .timeout = std::chrono::seconds(120)});
    }
    std::shared_ptr<installation> copy = installation::get();
};

TEST_F(NetsetgoAbuse, AnotherUsersProcessIsRefused) {
    const result r = abuse(
        "unshare --net sleep 600 & victim=$!\n"
        "$AS_USER $NSG --pid $victim; echo status=$?\n"
        "kill $victim");
    EXPECT_EQ(r.out, "status=2\nnetwork-unchanged\n");
    EXPECT_NE(r.err.find(": it is not your process"), std::string::npos) << r.err;
}

TEST_F(NetsetgoAbuse, Pid1IsRefused) {
    const result r = abuse("$AS_USER $NSG --pid 1; echo status=$?");
    EXPECT_EQ(r.out, "status=2\nnetwork-unchanged\n");
    EXPECT_EQ(r.err, "netsetgo: refused pid 1: it is not your process\n");
}

TEST_F(NetsetgoAbuse, TheCallersOwnNetworkNamespaceIsRefused) {
    const result r = abuse(
        "$AS_USER sh -c 'exec '$NSG' --pid $$'; echo status=$?\n"
        "$NSG --pid $$; echo status=$?");
    EXPECT_EQ(r.out, "status=2\nstatus=2\nnetwork-unchanged\n");
    EXPECT_EQ(lines_of(r.err).size(), 2u) << r.err;
    for (const std::string& line : lines_of(r.err))
        EXPECT_TRUE(line.ends_with(": it is in your own network namespace")) << line;
}

TEST_F(NetsetgoAbuse, ANamespaceInAUserNamespaceTheCallerDoesNotOwnIsRefused) {
    // uid 65534's own process, but in a network namespace root made for it.
    const result r = abuse(
        "unshare --net $AS_USER sleep 600 & victim=$!\n"
        "while [ \"$(stat -c %u /proc/$victim)\" != 65534 ]; do sleep 0.01; done\n"
        "$AS_USER $NSG --pid $victim; echo status=$?\n"
        "kill $victim");
    EXPECT_EQ(r.out, "status=2\nnetwork-unchanged\n");
    EXPECT_NE(r.err.find("belongs to a user namespace you do not own"), std::string::npos) << r.err;
}

TEST_F(NetsetgoAbuse, MalformedArgumentsAreRefusedBeforeAnythingChanges) {
    const std::vector<std::string> bad_arguments = {
        "--pid 12a",
        "--pid -5",
        "--pid ''",
        "--bridge-name brg0",  // no --pid
        "--pid 999999999",
        "--pid $$ --bridge-address 10.10.10.1",
        "--pid $$ --bridge-address 10.10.10.0/24",
        "--pid $$ --bridge-address 10.10.10.1/33",
        "--pid $$ --bridge-address 10.10.10.1/8",
        "--pid $$ -bridgeAddress 300.1.1.1/24",
        "--pid $$ --container-address 10.10.11.2/24",
        "--pid $$ --container-address 10.10.10.2",
        "--pid $$ --bridge-name a234567890123456",
        "--pid $$ --bridge-name 'br 0'",
        "--pid $$ --bridge-name 'br/0'",
        "--pid $$ --bridge-name ..",
        "--pid $$ -vethNamePrefix abcdefghi",
        "--pid $$ --veth-prefix 'v;rm'",
        "--pid $$ --frobnicate 1",
    };
    std::string calls;
    for (const std::string& arguments : bad_arguments)
        calls += "$AS_USER $NSG " + arguments + "; echo status=$?\n";
    const result r = abuse(calls);
    std::string expected;
    for (size_t i = 0; i < bad_arguments.size(); ++i)
        expected += "status=2\n";
    EXPECT_EQ(r.out, expected + "network-unchanged\n");
    EXPECT_EQ(lines_of(r.err).size(), bad_arguments.size()) << r.err;
}

TEST_F(NetsetgoAbuse, UnprivilegedCallersCannotChooseTheBridge) {
    const result r = abuse(
        "unshare --user --map-root-user --net sleep 600 & victim=$!\n"
        "$AS_USER $NSG --pid $victim --bridge-name eth0; echo status=$?\n"
        "$AS_USER $NSG --pid $victim --bridge-address 192.168.0.1/24; echo status=$?\n"
        "kill $victim");
    EXPECT_EQ(r.out, "status=2\nstatus=2\nnetwork-unchanged\n");
    EXPECT_NE(r.err.find("only root may choose the bridge"), std::string::npos) << r.err;
}

TEST_F(NetsetgoAbuse, TheEnvironmentIsIgnored) {
    // libnl would print every netlink message with NLCB=debug and NLDBG set. The target is a
    // container the test made, so that nothing outside the test's namespaces is ever touched.
    const result r = in_fresh_network(
        "container c $AS_U1\n"
        "NLCB=debug NLDBG=4 $AS_U1 $NSG --pid $c; echo status=$?\n");
    EXPECT_EQ(r.out, "status=0\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(NetsetgoAbuse, CapabilitiesAreCutBeforeTheArgumentsAreRead) {
    // netsetgo blocks writing --help into a pipe that is already full: its state while it
    // handles what the caller wrote. Only CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21) remain.
    const result r = in_fresh_network(
        "mkfifo /tmp/nsp-full-$$; exec 3<>/tmp/nsp-full-$$; rm /tmp/nsp-full-$$\n"
        "head -c 65536 /dev/zero >&3\n"
        "$AS_U1 $NSG --help >&3 & helper=$!\n"
        "while ! grep -q pipe_write /proc/$helper/wchan; do sleep 0.01; done\n"
        "grep -E '^(Uid|CapPrm|CapEff|CapInh|CapAmb):' /proc/$helper/status | tr -s '\\t' ' ' | "
        "sed \"s/$U1/U/g\"\n"
        "kill $helper\n");
    EXPECT_EQ(r.out,
              "Uid: U U 0 U\nCapInh: 0000000000000000\nCapPrm: 0000000000201000\n"
              "CapEff: 0000000000000000\nCapAmb: 0000000000000000\n")
        << r.err;
}

TEST_F(NetsetgoAbuse, ExtraArgumentsAreRefused) {
    const result r = abuse(
        "container c $AS_USER\n"
        "$AS_USER $NSG --pid $c extra; echo status=$?\n"
        "$AS_USER $NSG --pid $c -- --bridge-name evil0; echo status=$?\n"
        "$AS_USER $NSG extra --pid $c; echo status=$?\n");
    EXPECT_EQ(r.out, "status=2\nstatus=2\nstatus=2\nnetwork-unchanged\n");
    const std::vector<std::string> errors = lines_of(r.err);
    ASSERT_EQ(errors.size(), 3u) << r.err;
    EXPECT_EQ(errors[0],
              "netsetgo: unexpected argument 'extra': netsetgo takes only options "
              "(try --help)");
    EXPECT_NE(errors[1].find("unexpected argument '--bridge-name'"), std::string::npos);
}

TEST_F(NetsetgoAbuse, RunningOutOfDescriptorsIsReportedAsSuch) {
    // Each limit makes a different open fail; none may read as a refusal of the target.
    const result r = abuse(
        "container c $AS_USER\n"
        "for limit in 4 5 6; do $AS_USER sh -c \"ulimit -n $limit; exec $NSG --pid $c\"; "
        "echo status=$?; done\n");
    EXPECT_EQ(r.out, "status=1\nstatus=1\nstatus=1\nnetwork-unchanged\n");
    const std::vector<std::string> errors = lines_of(r.err);
    ASSERT_EQ(errors.size(), 3u) << r.err;
    for (const std::string& line : errors) {
        EXPECT_TRUE(line.ends_with(": Too many open files")) << line;
        EXPECT_EQ(line.find("refused"), std::string::npos) << line;
    }
}

TEST_F(NetsetgoAbuse, RootOnAContainerOfItsOwnSucceedsWithTheGoSpellings) {
    const std::string script =
        "unshare --user --map-root-user --net sleep 600 & victim=$!\n"
        "while [ \"$(readlink /proc/$victim/ns/net)\" = \"$(readlink /proc/self/ns/net)\" ]; do "
        "sleep 0.01; done\n" +
        copy->bin("netsetgo") +
        " -pid $victim -bridgeName br9 -bridgeAddress 10.9.0.1/16 -containerAddress "
        "10.9.3.4/16 -vethNamePrefix ct; echo status=$?\n"
        "ip -o -4 addr show br9 | grep -o 'inet [0-9./]*'\n"
        "ip -o link show master br9 | grep -o 'ct-[0-9]*'\n"
        "nsenter --target $victim --net ip -o -4 addr show ct1 | grep -o 'inet [0-9./]*'\n"
        "nsenter --target $victim --net ip route show default\n"
        "kill $victim\n";
    const result r = run("/bin/sh", {"-c", script}, {.own_network_namespace = true});
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out,
              "status=0\ninet 10.9.0.1/16\nct-772\ninet 10.9.3.4/16\n"
              "default via 10.9.0.1 dev ct1 \n");
}

}  // namespace
