// A real distribution runs in the container (issue 20, label `realroot`): a Debian tree that
// debootstrap made, handed over with own-rootfs, run by root with step05. Root inside owns it,
// so dpkg and apt work offline; the network, the hostname and Ctrl-C are those of the steps.
//
// `./run.sh realroot` (CI, after the distro check) makes the tree once, as `./run.sh distro`
// does, and names it in NSP_REALROOT_TREE; the test works on a copy and skips, saying why,
// when there is no tree or no root.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "harness.hpp"

using namespace nsp::test;
namespace fs = std::filesystem;

namespace {

class RealRoot : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        const char* tree = getenv("NSP_REALROOT_TREE");
        if (!running_as_root() || tree == nullptr || !fs::is_directory(tree)) return;
        // Held for the suite: the installation goes when its last user does.
        installed_ = new std::shared_ptr<installation>(installation::get());
        const auto& copy = *installed_;
        copy_ = new fs::path(copy->dir() / "debian");
        const result copied = sh(std::string("cp -a ") + tree + " " + copy_->string());
        if (copied.exit_status != 0) throw std::runtime_error("copy the tree: " + copied.err);
        const result handed = run(copy->bin("own-rootfs"), {copy_->string()});
        if (handed.exit_status != 0) throw std::runtime_error("own-rootfs: " + handed.err);
    }
    static void TearDownTestSuite() {
        if (copy_ != nullptr) fs::remove_all(*copy_);
        delete copy_;
        copy_ = nullptr;
        delete installed_;
        installed_ = nullptr;
    }
    void SetUp() override {
        if (!running_as_root()) GTEST_SKIP() << "root runs a real distribution here (CI does)";
        if (copy_ == nullptr)
            GTEST_SKIP() << "no Debian tree: NSP_REALROOT_TREE is unset or not a directory "
                            "('./run.sh realroot' makes one and runs this)";
    }
    std::vector<std::string> step05(const std::vector<std::string>& command) const {
        std::vector<std::string> args = {"--rootfs", copy_->string()};
        args.insert(args.end(), command.begin(), command.end());
        return args;
    }
    std::shared_ptr<installation> copy = installation::get();
    static fs::path* copy_;
    static std::shared_ptr<installation>* installed_;
};

fs::path* RealRoot::copy_ = nullptr;
std::shared_ptr<installation>* RealRoot::installed_ = nullptr;

TEST_F(RealRoot, BashDpkgAptAndTheNetworkWork) {
    const std::string mounts_before = host_mounts();
    const std::string script =
        "echo $BASH_VERSION | cut -d. -f1; id; id -u\n"
        "grep ^VERSION_CODENAME= /etc/os-release\n"
        "hostname\n"
        "echo x > /root/written && echo y > /etc/written && echo root can write /root and /etc\n"
        "dpkg -s bash | grep ^Status:\n"
        "apt-get check >/dev/null && echo apt-get check passed\n"
        "ip -4 -o addr show veth1 | grep -o 'inet [0-9./]*'\n";
    const result r =
        run(copy->bin("step05_network"), step05({"/bin/bash"}),
            {.input = script, .own_network_namespace = true, .timeout = std::chrono::seconds(60)});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out,
              "5\nuid=0(root) gid=0(root) groups=0(root)\n0\nVERSION_CODENAME=trixie\nns-process\n"
              "root can write /root and /etc\nStatus: install ok installed\n"
              "apt-get check passed\ninet 10.10.10.2/24\n");
    EXPECT_EQ(r.err, "");
    struct stat written {
    }, tree{};
    ASSERT_EQ(::stat((*copy_ / "root" / "written").c_str(), &written), 0);
    ASSERT_EQ(::stat(copy_->c_str(), &tree), 0);
    EXPECT_EQ(written.st_uid, tree.st_uid) << "written by the tree's root, never host root";
    EXPECT_NE(written.st_uid, 0u);
    EXPECT_EQ(host_mounts(), mounts_before);
    EXPECT_EQ(processes_mentioning(copy_->string()), std::vector<pid_t>{});
}

TEST_F(RealRoot, CtrlCEndsItWith130) {
    terminal screen(copy->bin("step05_network"),
                    step05({"/bin/bash", "-c", "echo ready; exec sleep 60"}),
                    {.own_network_namespace = true});
    ASSERT_TRUE(screen.wait_for("ready\r\n", std::chrono::seconds(30))) << screen.screen();
    screen.type("\x03");
    const result r = screen.finish();
    EXPECT_EQ(r.exit_status, 128 + SIGINT) << r.out;
    EXPECT_EQ(processes_mentioning(copy_->string()), std::vector<pid_t>{});
}

}  // namespace
