// The floor of one step: the kernel work that step does and nothing else, in plain C.
//
//   nsp_floor_stepNN [--rootfs PATH] -- COMMAND [ARG...]
//
// Built once per step with FLOOR_STEP=1..5. It makes the same clone(2) with the same
// namespace flags as the step, writes the same uid/gid maps from the parent while the child
// waits on a pipe, makes the same mounts (and, for step05, the same network set-up over
// rtnetlink), then execs COMMAND (an absolute path: no PATH search) and waits for it.
// What it leaves out is what the runtime adds on top: option parsing, the C++ and Boost
// libraries, the error pipe, signal forwarding, the parent-death signal, error hints.
// nsp_bench times step/floor to measure that overhead.
//
// Any failure prints "floor: <call>: <reason>" and exits 125, like the steps.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if FLOOR_STEP >= 5
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#endif

#if !defined(FLOOR_STEP) || FLOOR_STEP < 1 || FLOOR_STEP > 5
#error "FLOOR_STEP must be 1..5"
#endif

static const int clone_flags = CLONE_NEWUTS
#if FLOOR_STEP >= 2
                               | CLONE_NEWUSER
#endif
#if FLOOR_STEP >= 3
                               | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC
#endif
#if FLOOR_STEP >= 5
                               | CLONE_NEWNET
#endif
    ;

static void die(const char* what) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    _exit(125);
}

struct start {
    char** command;
    const char* rootfs;
    int go_ahead[2];  // parent -> child: the maps (and the host side of the network) exist
};

#if FLOOR_STEP >= 2
static void write_file(const char* path, const char* content) {
    const int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) die(path);
    close(fd);
}

// Parent side, as nsp::user::init_from_parent: rootless, root inside is the invoking user
// outside; run by root, a range of 65536 unprivileged ids (the steps' first range, from
// 1879048192: which range a step picks is its own bookkeeping, not kernel work).
static void write_maps(pid_t child) {
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
    if (getuid() == 0)
        snprintf(map, sizeof map, "0 1879048192 65536");
    else
        snprintf(map, sizeof map, "0 %u 1", (unsigned)getuid());
    write_file(path, map);
    if (getuid() != 0) {
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)child);
        write_file(path, "deny");
    }
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
    if (getuid() == 0)
        snprintf(map, sizeof map, "0 1879048192 65536");
    else
        snprintf(map, sizeof map, "0 %u 1", (unsigned)getgid());
    write_file(path, map);
}

// Child side, as nsp::user::init_from_child: started by root, the child is host root, which the
// maps leave out, until it becomes root of its namespace.
static void become_root(void) {
    if (getuid() == 0) return;  // rootless: mapped to 0 already
    if (setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0 || setresuid(0, 0, 0) != 0)
        die("become root of the user namespace");
}
#endif

#if FLOOR_STEP >= 5
// rtnetlink, raw: one request at a time, each acknowledged.
struct request {
    struct nlmsghdr header;
    char payload[1024];
};

static void* tail_of(struct request* req) {
    return (char*)req + NLMSG_ALIGN(req->header.nlmsg_len);
}

static struct rtattr* add_attr(struct request* req, int type, const void* data, size_t size) {
    struct rtattr* attr = tail_of(req);
    attr->rta_type = type;
    attr->rta_len = RTA_LENGTH(size);
    if (size != 0) memcpy(RTA_DATA(attr), data, size);
    req->header.nlmsg_len = NLMSG_ALIGN(req->header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
    return attr;
}

static void end_nest(struct request* req, struct rtattr* nest) {
    nest->rta_len = (char*)tail_of(req) - (char*)nest;
}

static void start_request(struct request* req, int type, int flags, const void* body, size_t size) {
    memset(req, 0, sizeof *req);
    req->header.nlmsg_len = NLMSG_LENGTH(size);
    req->header.nlmsg_type = type;
    req->header.nlmsg_flags = NLM_F_REQUEST | flags;
    memcpy(NLMSG_DATA(&req->header), body, size);
}

// Sends `req` and returns the kernel's errno for it (0: done); fills *ifindex from an
// RTM_NEWLINK answer when asked.
static int talk(int sock, struct request* req, int* ifindex) {
    if (send(sock, req, req->header.nlmsg_len, 0) < 0) die("send a netlink request");
    char answer[8192];
    const ssize_t received = recv(sock, answer, sizeof answer, 0);
    if (received < 0) die("receive a netlink answer");
    unsigned int n = (unsigned int)received;  // NLMSG_OK compares it with nlmsg_len
    int err = 0;
    for (struct nlmsghdr* h = (struct nlmsghdr*)answer; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_ERROR)
            err = -((struct nlmsgerr*)NLMSG_DATA(h))->error;
        else if (h->nlmsg_type == RTM_NEWLINK && ifindex != NULL)
            *ifindex = ((struct ifinfomsg*)NLMSG_DATA(h))->ifi_index;
    }
    return err;
}

static void must(int err, const char* what) {
    errno = err;
    if (err != 0) die(what);
}

static int open_rtnetlink(void) {
    const int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sock < 0) die("open an rtnetlink socket");
    return sock;
}

static void add_address(int sock, int ifindex, const char* address) {
    struct request req;
    const struct ifaddrmsg body = {
        .ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = ifindex};
    start_request(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &body, sizeof body);
    struct in_addr in;
    inet_pton(AF_INET, address, &in);
    add_attr(&req, IFA_LOCAL, &in, sizeof in);
    add_attr(&req, IFA_ADDRESS, &in, sizeof in);
    must(talk(sock, &req, NULL), address);
}

static void set_up(int sock, int ifindex) {
    struct request req;
    const struct ifinfomsg body = {
        .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    start_request(&req, RTM_NEWLINK, NLM_F_ACK, &body, sizeof body);
    must(talk(sock, &req, NULL), "set a link up");
}

static int link_index(int sock, const char* name) {
    struct request req;
    const struct ifinfomsg body = {.ifi_family = AF_UNSPEC};
    start_request(&req, RTM_GETLINK, 0, &body, sizeof body);
    add_attr(&req, IFLA_IFNAME, name, strlen(name) + 1);
    int ifindex = 0;
    const int err = talk(sock, &req, &ifindex);
    return err != 0 ? -err : ifindex;
}

// Parent side, in the caller's network namespace: bridge brg0 10.10.10.1/24 (made once,
// found afterwards), and a veth pair on it whose peer "veth1" is created directly inside the
// child's network namespace (IFLA_NET_NS_PID), up, as netsetgo does.
static void network_from_parent(pid_t child) {
    const int sock = open_rtnetlink();
    int bridge = link_index(sock, "brg0");
    if (bridge == -ENODEV) {
        struct request req;
        const struct ifinfomsg body = {
            .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
        start_request(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &body, sizeof body);
        add_attr(&req, IFLA_IFNAME, "brg0", sizeof "brg0");
        struct rtattr* info = add_attr(&req, IFLA_LINKINFO, NULL, 0);
        add_attr(&req, IFLA_INFO_KIND, "bridge", sizeof "bridge");
        end_nest(&req, info);
        must(talk(sock, &req, NULL), "create bridge brg0");
        bridge = link_index(sock, "brg0");
        add_address(sock, bridge, "10.10.10.1");
    }
    if (bridge < 0) must(-bridge, "find bridge brg0");

    // The host side gets a name from the kernel (veth%d), on the bridge and up; the peer is
    // born in the child's namespace, so it never appears in ours.
    struct request req;
    const struct ifinfomsg body = {
        .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    start_request(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &body, sizeof body);
    add_attr(&req, IFLA_MASTER, &bridge, sizeof bridge);
    struct rtattr* info = add_attr(&req, IFLA_LINKINFO, NULL, 0);
    add_attr(&req, IFLA_INFO_KIND, "veth", sizeof "veth");
    struct rtattr* data = add_attr(&req, IFLA_INFO_DATA, NULL, 0);
    struct rtattr* peer = add_attr(&req, VETH_INFO_PEER, NULL, 0);
    const struct ifinfomsg peer_body = {.ifi_family = AF_UNSPEC};
    memcpy(tail_of(&req), &peer_body, sizeof peer_body);
    req.header.nlmsg_len += NLMSG_ALIGN(sizeof peer_body);
    add_attr(&req, IFLA_IFNAME, "veth1", sizeof "veth1");
    const __u32 pid = (__u32)child;
    add_attr(&req, IFLA_NET_NS_PID, &pid, sizeof pid);
    end_nest(&req, peer);
    end_nest(&req, data);
    end_nest(&req, info);
    must(talk(sock, &req, NULL), "create a veth pair");
    close(sock);
}

// Child side, in its own network namespace: address, up, default route via the bridge, lo up.
static void network_from_child(void) {
    const int sock = open_rtnetlink();
    const int veth = link_index(sock, "veth1");
    if (veth < 0) must(-veth, "find veth1");
    add_address(sock, veth, "10.10.10.2");
    set_up(sock, veth);
    set_up(sock, 1);  // lo is always ifindex 1 in a new network namespace

    struct request req;
    const struct rtmsg body = {.rtm_family = AF_INET,
                               .rtm_table = RT_TABLE_MAIN,
                               .rtm_protocol = RTPROT_BOOT,
                               .rtm_scope = RT_SCOPE_UNIVERSE,
                               .rtm_type = RTN_UNICAST};
    start_request(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &body, sizeof body);
    struct in_addr gateway;
    inet_pton(AF_INET, "10.10.10.1", &gateway);
    add_attr(&req, RTA_GATEWAY, &gateway, sizeof gateway);
    add_attr(&req, RTA_OIF, &veth, sizeof veth);
    must(talk(sock, &req, NULL), "add the default route");
    close(sock);
}
#endif

#if FLOOR_STEP >= 4
// A new filesystem of `type`, attached on `target` (a descriptor): fsopen, fsconfig, fsmount,
// move_mount, as nsp::mount::new_filesystem and attach.
static int new_filesystem(const char* type, const char* mode, unsigned attributes, int target) {
    const int fs = fsopen(type, FSOPEN_CLOEXEC);
    if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", type, 0) != 0 ||
        (mode != NULL && fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) != 0) ||
        fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
        die(type);
    const int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attributes);
    if (mnt < 0 || move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
        die(type);
    close(fs);
    close(target);
    return mnt;
}

static int beneath(int root, const char* name) {
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    const int fd = (int)syscall(SYS_openat2, root, name, &how, sizeof how);
    if (fd < 0) die(name);
    return fd;
}

// As nsp::rootfs::init_from_child: the rootfs opened without following a symlink and bound onto
// itself by descriptor, proc, a ramfs /dev with six bind-mounted devices and four symlinks and a
// shm directory, a ramfs /tmp, pivot_root(".", "."), the old root detached.
static void enter_rootfs(const char* rootfs) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make / private");
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    const int tree = (int)syscall(SYS_openat2, AT_FDCWD, rootfs, &how, sizeof how);
    if (tree < 0) die(rootfs);
    const int root =
        open_tree(tree, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
    if (root < 0 || move_mount(root, "", tree, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))
        die("bind the rootfs");
    close(new_filesystem("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                         beneath(root, "proc")));
    const int dev = new_filesystem("ramfs", "0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
                                   beneath(root, "dev"));
    static const char* const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; ++i) {
        char device[32], node[64];
        snprintf(device, sizeof device, "/dev/%s", devices[i]);
        const int fd = openat(dev, devices[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0) die(device);
        snprintf(node, sizeof node, "/proc/self/fd/%d", fd);
        if (mount(device, node, NULL, MS_BIND, NULL) != 0) die(device);
        close(fd);
    }
    static const char* const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; ++i)
        if (symlinkat(links[i][0], dev, links[i][1]) != 0) die(links[i][1]);
    if (mkdirat(dev, "shm", 01777) != 0 || fchmodat(dev, "shm", 01777, 0) != 0) die("shm");
    close(dev);
    close(new_filesystem("ramfs", "1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                         beneath(root, "tmp")));
    if (fchdir(root) != 0) die("fchdir");
    if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
    if (umount2(".", MNT_DETACH) != 0) die("umount2");
    if (chdir("/") != 0) die("chdir /");
}
#endif

static int child_main(void* arg) {
    struct start* start = arg;
#if FLOOR_STEP >= 2
    close(start->go_ahead[1]);
    char go;
    if (read(start->go_ahead[0], &go, 1) != 1) die("wait for the go-ahead");
#endif
    if (sethostname("ns-process", strlen("ns-process")) != 0) die("sethostname");
#if FLOOR_STEP >= 4
    // As rootfs::init_from_child: the files of /dev belong to root of the namespace.
    setfsgid(0);
    setfsuid(0);
#endif
#if FLOOR_STEP == 3
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make / private");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        die("mount /proc");
#elif FLOOR_STEP >= 4
    enter_rootfs(start->rootfs);
#endif
#if FLOOR_STEP >= 2
    become_root();
#endif
#if FLOOR_STEP >= 5
    network_from_child();
#endif
    char* env[] = {"PS1=-[ns-process]- # ",
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    execve(start->command[0], start->command, env);
    die(start->command[0]);
    return 125;
}

static char child_stack[64 * 1024] __attribute__((aligned(16)));

int main(int argc, char* argv[]) {
    struct start start = {.rootfs = "/nonexistent"};
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--rootfs") == 0) {
        start.rootfs = argv[i + 1];
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0) ++i;
    if (i >= argc) {
        fprintf(stderr, "usage: %s [--rootfs PATH] -- COMMAND [ARG...]\n", argv[0]);
        return 125;
    }
    start.command = argv + i;

#if FLOOR_STEP >= 2
    if (pipe2(start.go_ahead, O_CLOEXEC) != 0) die("pipe2");
#endif
    const pid_t child =
        clone(child_main, child_stack + sizeof child_stack, clone_flags | SIGCHLD, &start);
    if (child < 0) die("clone");
#if FLOOR_STEP >= 2
    close(start.go_ahead[0]);
    write_maps(child);
#if FLOOR_STEP >= 5
    network_from_parent(child);
#endif
    if (write(start.go_ahead[1], "G", 1) != 1) die("send the go-ahead");
    close(start.go_ahead[1]);
#endif
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
