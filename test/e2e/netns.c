/*
 * A tree in a network namespace of its own (the "netns" flow of run.py):
 *
 *   launcher (outside: not dumped; writes the host pid of I to "pids")
 *   `- I  pid 1 of new pid and network namespaces
 *
 * I brings lo up and makes a veth pair: eth0 inside, cvd<launcher pid>
 * outside (gone with the namespace when the dump ends I; the restore makes
 * cvr<launcher pid>), with an mtu, a MAC address, IPv4 and IPv6 (nodad)
 * addresses, routes through a gateway in both families, and sysctls of the
 * namespace and of eth0; then a TCP listener on 127.0.0.1 with one
 * connection (both ends) and a UDP socket bound to eth0's address. After
 * the restore (SIGTERM to I) it checks all of that through ioctls,
 * getifaddrs and /proc/net, talks over the connection both ways, connects
 * to the listener again, and checks that its sockets are in its namespace.
 *
 * Modes (argv[1] when there are two arguments):
 *   ext     also a transmit queue length of 777 and a permanent neighbour
 *           (the established format has no place for them: --image-ext)
 *   empty   no sockets; restored with --empty-ns net: eth0 must be gone
 *   bridge  also a bridge: the dump must refuse it, I runs on
 *   sysctl  also net.ipv4.tcp_syn_retries changed: refused (not carried)
 *   nopid   I is in criu's pid namespace (a network namespace only)
 * The launcher passes SIGTERM on to I.
 */
#include "e2e-ns.h"
#include <ifaddrs.h>
#include <sched.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#define MAC "02:00:00:77:00:02"

static const char *mode = "";
static int lsk = -1, csk = -1, ask = -1, usk = -1;
static struct stat netns_before, host_netns;	/* the launcher's: criu's */

static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st)
		e2e_fail("`%s` exited %#x", cmd, st);
}

static void put_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		e2e_fail("cannot write %s: %m", path);
	close(fd);
}

static void get_sysctl(const char *path, const char *want)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || strncmp(buf, want, strlen(want)) || buf[strlen(want)] != '\n')
		e2e_fail("%s is %.*s, not %s", path, (int)(n > 0 ? n : 0), buf, want);
}

static void setup_links(pid_t launcher)
{
	sh("ip link set lo up");
	sh("ip link add eth0 type veth peer name cvd%d netns /proc/%d/ns/net", launcher, launcher);
	sh("ip link set eth0 mtu 1400 address " MAC);
	sh("ip addr add 10.77.0.2/24 dev eth0");
	sh("ip -6 addr add fd77::2/64 dev eth0 nodad");
	sh("ip link set eth0 up");
	sh("ip route add 10.78.0.0/16 via 10.77.0.1");
	sh("ip -6 route add fd78::/64 via fd77::1 dev eth0");
	put_sysctl("/proc/sys/net/ipv6/conf/eth0/hop_limit", "33");
	put_sysctl("/proc/sys/net/ipv4/conf/eth0/arp_ignore", "2");
	put_sysctl("/proc/sys/net/unix/max_dgram_qlen", "77");
	if (!strcmp(mode, "ext")) {
		sh("ip link set eth0 txqueuelen 777");
		sh("ip neigh add 10.77.0.9 lladdr 02:00:00:00:00:09 dev eth0 nud permanent");
	}
	if (!strcmp(mode, "bridge"))
		sh("ip link add cbr0 type bridge");
	if (!strcmp(mode, "sysctl"))
		put_sysctl("/proc/sys/net/ipv4/tcp_syn_retries", "3");
}

static void setup_sockets(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	lsk = socket(AF_INET, SOCK_STREAM, 0);
	if (lsk < 0 || bind(lsk, (struct sockaddr *)&a, sizeof(a)) || listen(lsk, 8) ||
	    getsockname(lsk, (struct sockaddr *)&a, &len))
		e2e_fail("listener: %m");
	csk = socket(AF_INET, SOCK_STREAM, 0);
	if (csk < 0 || connect(csk, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("connect: %m");
	ask = accept(lsk, NULL, NULL);
	if (ask < 0)
		e2e_fail("accept: %m");
	usk = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = 0;
	inet_pton(AF_INET, "10.77.0.2", &a.sin_addr);
	if (usk < 0 || bind(usk, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("udp bind to 10.77.0.2: %m");
}

static void check_link(const char *name, unsigned int mtu, int qlen)
{
	struct ifreq r = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	char mac[20];
	unsigned char *m = (unsigned char *)r.ifr_hwaddr.sa_data;

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &r) || !(r.ifr_flags & IFF_UP))
		e2e_fail("%s is not up (flags %#x): %m", name, r.ifr_flags);
	if (ioctl(fd, SIOCGIFMTU, &r) || (unsigned int)r.ifr_mtu != mtu)
		e2e_fail("%s: mtu %d, not %u", name, r.ifr_mtu, mtu);
	if (ioctl(fd, SIOCGIFTXQLEN, &r) || r.ifr_qlen != qlen)
		e2e_fail("%s: queue length %d, not %d", name, r.ifr_qlen, qlen);
	if (strcmp(name, "lo")) {
		if (ioctl(fd, SIOCGIFHWADDR, &r))
			e2e_fail("SIOCGIFHWADDR: %m");
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		if (strcmp(mac, MAC))
			e2e_fail("%s: address %s, not " MAC, name, mac);
	}
	close(fd);
}

/* @want (text) is an address of eth0 with @plen bits of prefix. */
static void check_addr(int family, const char *want, int plen)
{
	struct ifaddrs *ifa, *i;
	char buf[64];
	int bits, k;

	if (getifaddrs(&ifa))
		e2e_fail("getifaddrs: %m");
	for (i = ifa; i; i = i->ifa_next) {
		const unsigned char *mask;
		size_t n;

		if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, "eth0"))
			continue;
		if (family == AF_INET) {
			inet_ntop(family, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof(buf));
			mask = (const unsigned char *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
			n = 4;
		} else {
			inet_ntop(family, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, buf, sizeof(buf));
			mask = ((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr.s6_addr;
			n = 16;
		}
		for (bits = 0, k = 0; k < (int)n; k++)
			bits += __builtin_popcount(mask[k]);
		if (!strcmp(buf, want) && bits == plen) {
			freeifaddrs(ifa);
			return;
		}
	}
	freeifaddrs(ifa);
	e2e_fail("eth0 has no address %s/%d", want, plen);
}

/* A line of /proc/net/@file holding every one of the words @a, @b, @c. */
static void check_proc_net(const char *file, const char *a, const char *b, const char *c)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/net/%s", file);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, a) && strstr(line, b) && strstr(line, c)) {
			fclose(f);
			return;
		}
	if (f)
		fclose(f);
	e2e_fail("no line of %s has %s, %s and %s", path, a, b, c);
}

static void check_sockets(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	char buf[8] = "";
	struct stat st;
	int ns, c2, a2;

	ns = ioctl(usk, SIOCGSKNS);
	if (ns < 0 || fstat(ns, &st) || st.st_ino != netns_before.st_ino)
		e2e_fail("the UDP socket is not in the task's network namespace: %m");
	close(ns);
	if (write(csk, "ping", 4) != 4 || read(ask, buf, 4) != 4 || strcmp(buf, "ping"))
		e2e_fail("client to server: %m (%s)", buf);
	if (write(ask, "pong", 4) != 4 || read(csk, buf, 4) != 4 || strcmp(buf, "pong"))
		e2e_fail("server to client: %m (%s)", buf);
	if (getsockname(lsk, (struct sockaddr *)&a, &len))
		e2e_fail("getsockname: %m");
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	if (c2 < 0 || connect(c2, (struct sockaddr *)&a, sizeof(a)) || (a2 = accept(lsk, NULL, NULL)) < 0)
		e2e_fail("a new connection to the restored listener: %m");
	close(a2);
	close(c2);
}

static void check_all(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) || st.st_ino == host_netns.st_ino)
		e2e_fail("not in a network namespace of its own: %m");
	netns_before = st;
	if (!strcmp(mode, "empty")) {
		if (if_nametoindex("eth0"))
			e2e_fail("--empty-ns net: eth0 exists");
		e2e_pass();
	}
	check_link("lo", 65536, 1000);
	check_link("eth0", 1400, strcmp(mode, "ext") ? 1000 : 777);
	check_addr(AF_INET, "10.77.0.2", 24);
	check_addr(AF_INET6, "fd77::2", 64);
	/* nodad: flags 0x82 (IFA_F_PERMANENT, IFA_F_NODAD) in if_inet6; a route in both families */
	check_proc_net("if_inet6", "fd770000000000000000000000000002", " 40 00 82 ", "eth0");
	check_proc_net("route", "00004E0A", "01004D0A", "0000FFFF");
	check_proc_net("ipv6_route", "fd780000000000000000000000000000 40", "fd770000000000000000000000000001", "eth0");
	if (!strcmp(mode, "ext"))
		check_proc_net("arp", "10.77.0.9", "0x6", "02:00:00:00:00:09");
	get_sysctl("/proc/sys/net/ipv6/conf/eth0/hop_limit", "33");
	get_sysctl("/proc/sys/net/ipv4/conf/eth0/arp_ignore", "2");
	get_sysctl("/proc/sys/net/unix/max_dgram_qlen", "77");
	check_sockets();
	e2e_pass();
}

static int nsinit(void *launcher)
{
	if (setsid() < 0)
		e2e_fail("setsid: %m");
	setup_links(*(pid_t *)launcher);
	if (strcmp(mode, "empty"))
		setup_sockets();
	e2e_ready();
	e2e_wait_stop();
	check_all();
	return 0;
}

int main(int argc, char **argv)
{
	pid_t me = getpid();

	mode = argc > 2 ? argv[1] : "";
	if (stat("/proc/self/ns/net", &host_netns))
		return 2;
	e2e_init(argc - (argc > 2), argv + (argc > 2));
	return e2e_ns_launch(strcmp(mode, "nopid") ? CLONE_NEWPID | CLONE_NEWNET : CLONE_NEWNET, nsinit,
			     &me);
}
