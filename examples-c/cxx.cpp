// cxx.cpp: libmif from C++17. Small RAII wrappers (a context that closes itself, a
// message that frees itself) and the monitor task of poll.c: follow the host's
// interfaces, provisioning domains (PvDs) and addresses in a poll() loop until
// SIGINT or SIGTERM.
//
//   cxx [--root DIR]
//
// Prints one line per message, for example
//
//   interface 2 mif0
//   pvd mif0/ipv4 on mif0
//   address 198.51.100.2/24 on mif0 (mif0/ipv4)
//   address gone 198.51.100.2/24 on mif0 (mif0/ipv4)
//
// --root DIR makes the library read its configuration and state files (etc/, run/)
// under DIR instead of /, as tests do.
//
// Build: c++ -std=c++17 -Iinclude cxx.cpp -Lbuild/lib -lmif -Wl,-rpath,"$PWD/build/lib"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include <mif.h>

namespace mif {

// A failed libmif call, with the library's description of its status.
class Error : public std::runtime_error {
public:
    Error(const std::string &what, mif_result rc) : std::runtime_error(what + ": " + mif_strerror(rc)), rc_(rc) {}
    mif_result code() const noexcept { return rc_; }

private:
    mif_result rc_;
};

// A message owned by the program: mif_message_free when it goes out of scope.
struct MessageFree {
    void operator()(mif_message *msg) const noexcept { mif_message_free(msg); }
};
using Message = std::unique_ptr<mif_message, MessageFree>;

// A context: mif_close when it goes out of scope. (mif_ctx * is a handle, never
// dereferenced, so unique_ptr with a custom deleter fits.)
struct ContextClose {
    void operator()(mif_ctx *ctx) const noexcept { mif_close(ctx); }
};

class Context {
public:
    explicit Context(const char *root_dir = nullptr)
    {
        mif_options opts;
        mif_options_init(&opts);
        opts.root_dir = root_dir;
        mif_ctx *raw = nullptr;
        if (mif_result rc = mif_open(&opts, &raw); rc != MIF_OK)
            throw Error("mif_open", rc);
        ctx_.reset(raw);
    }

    // The descriptor to poll; the context owns it (never close it).
    int fd() const noexcept { return mif_fd(ctx_.get()); }

    // Posts a request; returns the library's status (the caller decides which
    // refusals are normal).
    mif_result post(const mif_request &req) noexcept { return mif_post_message(ctx_.get(), &req); }

    // The oldest waiting message, or an empty Message when none waits.
    Message next()
    {
        mif_message *msg = nullptr;
        mif_result rc = mif_get_message(ctx_.get(), &msg);
        if (rc == MIF_NO_MESSAGE)
            return nullptr;
        if (rc != MIF_OK)
            throw Error("mif_get_message", rc);
        return Message(msg);
    }

private:
    std::unique_ptr<mif_ctx, ContextClose> ctx_;
};

// A request of one type, initialised as the header requires.
inline mif_request request(mif_request_type type)
{
    mif_request req;
    mif_request_init(&req, type);
    return req;
}

inline std::string format(const mif_address &addr)
{
    char buf[MIF_ADDRESS_TEXT_SIZE];
    if (mif_address_format(&addr, buf, sizeof buf) != MIF_OK)
        return "?";
    return buf;
}

} // namespace mif

// A file descriptor closed when it goes out of scope.
class UniqueFd {
public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

// Subscribes with `req`. An interface or PvD that has just gone is refused
// (MIF_E_UNKNOWN_INTERFACE / _PVD): normal, its removal message follows.
static void subscribe(mif::Context &ctx, const mif_request &req)
{
    mif_result rc = ctx.post(req);
    if (rc != MIF_OK && rc != MIF_E_UNKNOWN_INTERFACE && rc != MIF_E_UNKNOWN_PVD)
        std::cerr << mif_request_type_name(req.request_type) << ": " << mif_strerror(rc) << '\n';
}

// Prints one message and subscribes one level down: to each interface's PvDs, to
// each PvD's addresses. Returns false when the library's engine has failed.
static bool handle_message(mif::Context &ctx, const mif_message &msg)
{
    switch (msg.msg_type) {
    case MIF_MSG_INTERFACE_ANNOUNCEMENT: {
        std::cout << "interface " << msg.ifindex << ' ' << msg.ifname << std::endl;
        mif_request req = mif::request(MIF_REQ_ANNOUNCE_PVDS);
        req.ifindex = msg.ifindex;
        subscribe(ctx, req);
        break;
    }
    case MIF_MSG_NO_INTERFACE_ANNOUNCEMENT:
        std::cout << "interface gone " << msg.ifindex << ' ' << msg.ifname << std::endl;
        break;
    case MIF_MSG_PVD_ANNOUNCEMENT: {
        std::cout << "pvd " << msg.pvd_name << " on " << msg.ifname << std::endl;
        mif_request req = mif::request(MIF_REQ_ANNOUNCE_ADDRESSES);
        req.pvd = msg.pvd;
        subscribe(ctx, req);
        break;
    }
    case MIF_MSG_NO_PVD_ANNOUNCEMENT:
        std::cout << "pvd gone " << msg.pvd_name << " on " << msg.ifname << std::endl;
        break;
    case MIF_MSG_ADDRESS_ANNOUNCEMENT: // also sent again when its flags or lifetimes change
    case MIF_MSG_NO_ADDRESS_ANNOUNCEMENT:
        std::cout << "address " << (msg.msg_type == MIF_MSG_NO_ADDRESS_ANNOUNCEMENT ? "gone " : "")
                  << mif::format(msg.address) << '/' << unsigned{msg.prefix_len} << " on " << msg.ifname
                  << " (" << msg.pvd_name << ')' << std::endl;
        break;
    case MIF_MSG_QUEUE_OVERFLOW: // we fell far behind: the whole current state follows
        std::cout << "overflow: " << msg.dropped_messages << " announcements left out" << std::endl;
        break;
    case MIF_MSG_ENGINE_FAILED: // the last message of this context
        std::cerr << "libmif engine failed: " << (msg.text ? msg.text : mif_strerror(msg.status)) << '\n';
        return false;
    default: // MIF_MSG_PVD_CONFIGURATION_COMPLETE...: not shown here
        break;
    }
    return true;
}

static int run(const char *root_dir)
{
    // SIGINT and SIGTERM blocked (before the library starts its thread), then read
    // from a signalfd in the poll set.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop_signals, nullptr) != 0)
        throw std::runtime_error(std::string("sigprocmask: ") + std::strerror(errno));
    UniqueFd signals(signalfd(-1, &stop_signals, SFD_CLOEXEC));
    if (signals.get() < 0)
        throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));

    mif::Context ctx(root_dir);
    // Every interface now and as they come and go (the first announcements are
    // queued before the post returns). The output uses std::endl: each line is
    // flushed at once, also into a pipe.
    subscribe(ctx, mif::request(MIF_REQ_ANNOUNCE_INTERFACES));

    for (;;) {
        pollfd fds[2] = {{ctx.fd(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (fds[1].revents & POLLIN)
            return 0; // SIGINT or SIGTERM: ~Context closes the context
        while (mif::Message msg = ctx.next()) {
            if (!handle_message(ctx, *msg))
                return 1;
        }
    }
}

int main(int argc, char **argv)
{
    const char *root_dir = nullptr;
    if (argc == 3 && std::strcmp(argv[1], "--root") == 0) {
        root_dir = argv[2];
    } else if (argc != 1) {
        std::cerr << "usage: " << argv[0] << " [--root DIR]\n";
        return 2;
    }
    try {
        return run(root_dir);
    } catch (const std::exception &e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
}
