/*
 * Multicast group memberships of inet sockets: found through
 * /proc/PID/net/igmp{,6} and MCAST_MSFILTER, joined again with their source
 * filters (criu/include/sk-mcast.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define LOG_PREFIX "mcast: "
#include "log.h"
#include "files.h"
#include "sk-mcast.h"

static size_t addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void *addr_of(struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)ss)->sin6_addr :
					   (void *)&((struct sockaddr_in *)ss)->sin_addr;
}

static void make_ss(struct sockaddr_storage *ss, const uint8_t *a, size_t len)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = len == 16 ? AF_INET6 : AF_INET;
	memcpy(addr_of(ss), a, len);
}

/* One line of igmp (a device line sets *ifindex) or igmp6: 1 if it names a group. */
int mcast_parse_line(const char *line, bool v6, int *ifindex, struct sockaddr_storage *g)
{
	unsigned int b[16], addr;
	int i;

	memset(g, 0, sizeof(*g));
	if (!v6) {
		if (line[0] != '\t' && sscanf(line, "%d", ifindex) != 1)
			*ifindex = 0;	/* the heading */
		if (line[0] != '\t' || *ifindex <= 0)
			return 0;
		if (sscanf(line, " %8x", &addr) != 1)
			return 0;
		g->ss_family = AF_INET;
		((struct sockaddr_in *)g)->sin_addr.s_addr = addr;	/* printed as it lies */
		return 1;
	}
	if (sscanf(line, "%d %*s %2x%2x%2x%2x%2x%2x%2x%2x%2x%2x%2x%2x%2x%2x%2x%2x", ifindex,
		   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8], &b[9], &b[10],
		   &b[11], &b[12], &b[13], &b[14], &b[15]) != 17 || *ifindex <= 0)
		return 0;
	g->ss_family = AF_INET6;
	for (i = 0; i < 16; i++)
		((struct sockaddr_in6 *)g)->sin6_addr.s6_addr[i] = (uint8_t)b[i];
	return 1;
}

/* The socket's filter for @group on @ifindex: NULL if it did not join (or failed: *err). */
static struct group_filter *msfilter(int fd, int level, int ifindex,
				     const struct sockaddr_storage *group, int *err)
{
	struct group_filter *gf = NULL;
	uint32_t n = 0;
	int tries;

	*err = 0;
	for (tries = 0; tries < 4; tries++) {
		socklen_t len = (socklen_t)GROUP_FILTER_SIZE(n);
		struct group_filter *g = realloc(gf, len);

		if (!g) {
			pr_err("out of memory");
			break;
		}
		gf = g;
		memset(gf, 0, len);
		gf->gf_interface = (uint32_t)ifindex;
		gf->gf_group = *group;
		gf->gf_numsrc = n;
		if (getsockopt(fd, level, MCAST_MSFILTER, gf, &len)) {
			/*
			 * not joined; or a level this socket has no options of
			 * (SOL_IP on a raw IPv6 socket), so no group joined there
			 */
			if (errno == EADDRNOTAVAIL || errno == ENODEV || errno == ENOPROTOOPT) {
				free(gf);
				return NULL;
			}
			pr_perror("MCAST_MSFILTER");
			break;
		}
		if (gf->gf_numsrc <= n)
			return gf;
		n = gf->gf_numsrc;	/* more sources than room: again */
	}
	free(gf);
	*err = -1;
	return NULL;
}

static int keep(InetSkEntry *e, int ifindex, const struct group_filter *gf, size_t alen)
{
	McastGroup *m = calloc(1, sizeof(*m)), **v;
	uint32_t i;

	v = m ? realloc(e->mcast, (e->n_mcast + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(m);
		pr_err("out of memory");
		return -1;
	}
	e->mcast = v;
	mcast_group__init(m);
	e->mcast[e->n_mcast++] = m;	/* freed with @e from here on */
	m->ifindex = (uint32_t)ifindex;
	m->fmode = gf->gf_fmode;
	m->group.data = malloc(alen);
	m->sources = calloc(gf->gf_numsrc + 1, sizeof(*m->sources));
	if (!m->group.data || !m->sources) {
		pr_err("out of memory");
		return -1;
	}
	m->group.len = alen;
	memcpy(m->group.data, addr_of((struct sockaddr_storage *)&gf->gf_group), alen);
	for (i = 0; i < gf->gf_numsrc; i++) {
		ProtobufCBinaryData *s = &m->sources[m->n_sources];

		s->data = malloc(alen);
		if (!s->data) {
			pr_err("out of memory");
			return -1;
		}
		s->len = alen;
		memcpy(s->data, addr_of((struct sockaddr_storage *)&gf->gf_slist[i]), alen);
		m->n_sources++;
	}
	return 0;
}

static int dump_in(const struct fd_probe *p, int fd, InetSkEntry *e, bool v6)
{
	struct group_filter *gf;
	struct sockaddr_storage g;
	char path[64], line[256];
	int ifindex = 0, ret = 0, err;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", p->pid, v6 ? "igmp6" : "igmp");
	f = fopen(path, "re");
	if (!f)
		return 0;	/* no IPv6 or no multicast in the kernel: nobody joined */
	while (!ret && fgets(line, sizeof(line), f)) {
		if (!mcast_parse_line(line, v6, &ifindex, &g))
			continue;
		gf = msfilter(fd, v6 ? SOL_IPV6 : SOL_IP, ifindex, &g, &err);
		if (err || !gf) {
			ret = err;
			continue;
		}
		if (e->n_mcast == MCAST_MAX_GROUPS || gf->gf_numsrc > MCAST_MAX_SOURCES) {
			pr_err("fd %d: more than %u multicast groups or %u sources: not supported yet",
			       p->fd, MCAST_MAX_GROUPS, MCAST_MAX_SOURCES);
			ret = -1;
		}
		if (!ret)
			ret = keep(e, ifindex, gf, addr_len(g.ss_family));
		free(gf);
	}
	fclose(f);
	return ret;
}

int mcast_dump(const struct fd_probe *p, int fd, InetSkEntry *e)
{
	if (e->type == SOCK_STREAM)
		return 0;	/* TCP sockets cannot join groups */
	if (dump_in(p, fd, e, false) || (e->family == AF_INET6 && dump_in(p, fd, e, true)))
		return -1;
	if (e->n_mcast)
		pr_info("fd %d: member of %zu multicast groups", p->fd, e->n_mcast);
	return 0;
}

const char *mcast_check(const InetSkEntry *e)
{
	size_t i, k;

	if (e->n_mcast > MCAST_MAX_GROUPS)
		return "too many multicast groups";
	for (i = 0; i < e->n_mcast; i++) {
		const McastGroup *m = e->mcast[i];

		if ((m->group.len != 4 && m->group.len != 16) ||
		    (m->group.len == 16 && e->family != AF_INET6))
			return "a multicast group of the wrong size";
		if (!m->ifindex || m->ifindex > INT32_MAX || m->fmode > MCAST_INCLUDE ||
		    m->n_sources > MCAST_MAX_SOURCES || (m->fmode == MCAST_INCLUDE && !m->n_sources))
			return "a multicast membership's interface, mode or sources out of range";
		for (k = 0; k < m->n_sources; k++)
			if (m->sources[k].len != m->group.len)
				return "a multicast source of the wrong size";
	}
	return NULL;
}

static struct group_filter *filter_of(const McastGroup *m, socklen_t *len)
{
	struct group_filter *gf;
	size_t i;

	*len = (socklen_t)GROUP_FILTER_SIZE(m->n_sources);
	gf = calloc(1, *len);
	if (!gf) {
		pr_err("out of memory");
		return NULL;
	}
	gf->gf_interface = m->ifindex;
	make_ss(&gf->gf_group, m->group.data, m->group.len);
	gf->gf_fmode = m->fmode;
	gf->gf_numsrc = (uint32_t)m->n_sources;
	for (i = 0; i < m->n_sources; i++)
		make_ss(&gf->gf_slist[i], m->sources[i].data, m->group.len);
	return gf;
}

/* Join @m, set its filter unless "exclude nothing" (what a join leaves), read it back. */
static int join(int fd, const InetSkEntry *e, const McastGroup *m)
{
	int level = m->group.len == 16 ? SOL_IPV6 : SOL_IP, err;
	struct group_req gr = { .gr_interface = m->ifindex };
	struct group_filter *want, *now = NULL;
	char ip[INET6_ADDRSTRLEN] = "?";
	socklen_t len;
	int ret = -1;

	make_ss(&gr.gr_group, m->group.data, m->group.len);
	inet_ntop(gr.gr_group.ss_family, m->group.data, ip, sizeof(ip));
	want = filter_of(m, &len);
	if (!want)
		return -1;
	if (setsockopt(fd, level, MCAST_JOIN_GROUP, &gr, sizeof(gr))) {
		pr_perror("inet socket %u: joining %s on interface %u", e->id, ip, m->ifindex);
		goto out;
	}
	if ((m->fmode != MCAST_EXCLUDE || m->n_sources) &&
	    setsockopt(fd, level, MCAST_MSFILTER, want, len)) {
		pr_perror("inet socket %u: the source filter of %s (%zu sources)", e->id, ip,
			  m->n_sources);
		goto out;
	}
	now = msfilter(fd, level, (int)m->ifindex, &want->gf_group, &err);
	if (!now || now->gf_fmode != want->gf_fmode || now->gf_numsrc != want->gf_numsrc ||
	    memcmp(now->gf_slist, want->gf_slist, m->n_sources * sizeof(want->gf_slist[0]))) {
		pr_err("inet socket %u: the membership of %s reads back otherwise", e->id, ip);
		goto out;
	}
	ret = 0;
out:
	free(now);
	free(want);
	return ret;
}

int mcast_restore(int fd, const InetSkEntry *e)
{
	size_t i;

	for (i = 0; i < e->n_mcast; i++)
		if (join(fd, e, e->mcast[i]))
			return -1;
	return 0;
}
