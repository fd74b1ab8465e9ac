// tiocsti: what a hostile container does to its user's terminal, for the terminal tests.
//
//   tiocsti TEXT      pushes TEXT and a newline into the input of the terminal on each of
//                     fds 0-2 and of /dev/tty (ioctl TIOCSTI), then prints "pushed N"
//
// Where the container shares its user's terminal, the user's shell reads TEXT as if typed,
// once the container is gone (CVE-2017-5226). Linked statically: it runs inside BusyBox trees.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fputs("usage: tiocsti TEXT\n", stderr);
        return 2;
    }
    const std::string text = std::string(argv[1]) + "\n";
    const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY);
    int pushed = 0;
    for (const int fd : {0, 1, 2, tty}) {
        if (fd < 0) continue;
        bool all = true;
        for (const char c : text)
            all = all && ::ioctl(fd, TIOCSTI, &c) == 0;
        pushed += all ? 1 : 0;
    }
    std::printf("pushed %d\n", pushed);
    return 0;
}
