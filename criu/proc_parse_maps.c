/*
 * /proc/PID/maps and /proc/PID/smaps.
 *
 * A maps line is
 *	START-END PERMS PGOFF MAJOR:MINOR INODE [padding NAME]
 * with START, END, PGOFF, MAJOR and MINOR in hex and INODE in decimal. The
 * kernel pads with spaces before the name, so the name is the rest of the
 * line after the blanks; kernel-made names never start with a blank. smaps
 * repeats the same header followed by "Key: value" lines per mapping.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LOG_PREFIX "proc: "
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"

/* vm.max_map_count can be raised, but not to millions in practice. */
#define MAX_VMAS	(1u << 22)
#define DELETED_SUFFIX	" (deleted)"

#define VMF_ROW(name, code, meaning, policy, how) \
	[PROC_VMF_##name] = { code, meaning, policy, how },
const struct vmflag_desc vmflag_table[] = { VMFLAGS_TABLE(VMF_ROW) };
#undef VMF_ROW
const unsigned int vmflag_table_size = ARRAY_SIZE(vmflag_table);
_Static_assert(PROC_VMF_NR_KNOWN < PROC_VMF_UNKNOWN, "VmFlags bits fit in 64 bits");

int proc_vmflag_bit(const char *code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vmflag_table); i++)
		if (!strcmp(vmflag_table[i].code, code))
			return (int)i;
	return -1;
}

void proc_vmas_free(struct proc_vmas *vmas)
{
	size_t i;

	for (i = 0; i < vmas->nr; i++)
		free(vmas->v[i].path);
	free(vmas->v);
	memset(vmas, 0, sizeof(*vmas));
}

static int parse_perms(struct ptext *l, struct proc_vma *v)
{
	const char *s = l->p;

	if (pt_len(l) < 4)
		return -1;
	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 's' && s[3] != 'p'))
		return -1;
	v->prot = (s[0] == 'r' ? PROT_READ : 0) | (s[1] == 'w' ? PROT_WRITE : 0) |
		  (s[2] == 'x' ? PROT_EXEC : 0);
	v->shared = s[3] == 's';
	l->p += 4;
	return 0;
}

static const struct {
	const char		*name;
	enum proc_vma_kind	kind;
} special_names[] = {
	{ "[heap]",		PROC_VMA_HEAP },
	{ "[stack]",		PROC_VMA_STACK },
	{ "[vdso]",		PROC_VMA_VDSO },
	{ "[vvar]",		PROC_VMA_VVAR },
	{ "[vvar_vclock]",	PROC_VMA_VVAR_VCLOCK },
	{ "[vsyscall]",		PROC_VMA_VSYSCALL },
};

static enum proc_vma_kind classify_name(const char *n)
{
	size_t i, len = strlen(n);

	if (!len)
		return PROC_VMA_ANON;
	if (n[0] == '/')
		return PROC_VMA_FILE;
	for (i = 0; i < ARRAY_SIZE(special_names); i++)
		if (!strcmp(n, special_names[i].name))
			return special_names[i].kind;
	if (n[len - 1] == ']') {
		if (!strncmp(n, "[anon:", 6))
			return PROC_VMA_ANON_NAMED;
		if (!strncmp(n, "[anon_shmem:", 12))
			return PROC_VMA_ANON_SHMEM;
	}
	return PROC_VMA_OTHER;
}

/* The name column: everything after the padding, " (deleted)" split off. */
static int parse_vma_name(struct plines *it, struct ptext *l, struct proc_vma *v)
{
	size_t n, sl = strlen(DELETED_SUFFIX);

	pt_skip_blanks(l);
	if (pt_len(l) > PROC_STR_MAX) {
		pt_err(it, "mapping name longer than %d bytes", PROC_STR_MAX);
		return -1;
	}
	v->path = pt_dup(l);
	if (!v->path)
		return -1;
	v->kind = classify_name(v->path);
	n = strlen(v->path);
	if (v->kind == PROC_VMA_FILE && n > sl && !strcmp(v->path + n - sl, DELETED_SUFFIX)) {
		v->path[n - sl] = '\0';
		v->deleted = true;
	}
	return 0;
}

static int parse_vma_header(struct plines *it, struct ptext *l, struct proc_vma *v)
{
	uint32_t maj, min;

	memset(v, 0, sizeof(*v));
	if (pt_u64(l, 16, &v->start) || pt_char(l, '-') || pt_u64(l, 16, &v->end) ||
	    v->end <= v->start) {
		pt_err(it, "bad address range");
		return -1;
	}
	if (pt_char(l, ' ') || parse_perms(l, v)) {
		pt_err(it, "bad permissions");
		return -1;
	}
	if (pt_char(l, ' ') || pt_u64(l, 16, &v->pgoff)) {
		pt_err(it, "bad offset");
		return -1;
	}
	if (pt_char(l, ' ') || pt_u32(l, 16, &maj) || pt_char(l, ':') ||
	    pt_u32(l, 16, &min) || maj > 0xfff || min > 0xfffff) {
		pt_err(it, "bad device");
		return -1;
	}
	v->dev_major = maj;
	v->dev_minor = min;
	if (pt_char(l, ' ') || pt_u64(l, 10, &v->inode) ||
	    (!pt_eol(l) && *l->p != ' ')) {
		pt_err(it, "bad inode");
		return -1;
	}
	return parse_vma_name(it, l, v);
}

/*
 * A header line into @elem, the slot after the last mapping of the struct
 * proc_vmas @ctx (the caller counts it on success).
 */
static int vma_line(struct plines *it, struct ptext *l, void *elem, void *ctx)
{
	const struct proc_vmas *out = ctx;
	struct proc_vma *v = elem;

	if (parse_vma_header(it, l, v)) {
		free(v->path);
		return -1;
	}
	if (out->nr && out->v[out->nr - 1].end > v->start) {
		pt_err(it, "mapping overlaps or is out of order");
		free(v->path);
		return -1;
	}
	return 0;
}

int proc_parse_maps(const char *text, size_t len, const char *name, struct proc_vmas *out)
{
	memset(out, 0, sizeof(*out));
	if (pt_parse_lines(text, len, name, (void **)&out->v, &out->nr, &out->cap,
			   sizeof(*out->v), MAX_VMAS, vma_line, out)) {
		proc_vmas_free(out);
		return -1;
	}
	return 0;
}

/* Append a parsed header line to @out (smaps, where not every line is one). */
static int add_vma(struct plines *it, struct ptext *l, struct proc_vmas *out)
{
	if (pt_grow((void **)&out->v, &out->cap, out->nr, sizeof(*out->v), MAX_VMAS) ||
	    vma_line(it, l, &out->v[out->nr], out))
		return -1;
	out->nr++;
	return 0;
}

/* Does the line start like "hex-"? Then it is a mapping header. */
static bool is_vma_header(const struct ptext *l)
{
	const char *s = l->p;

	while (s < l->end && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
		s++;
	return s > l->p && s < l->end && *s == '-';
}

static int parse_vmflags(struct plines *it, struct ptext *l, struct proc_vma *v)
{
	struct ptext tok;
	char code[3];
	int bit;

	if (v->has_vmflags) {
		pt_err(it, "second VmFlags line for one mapping");
		return -1;
	}
	v->has_vmflags = true;
	for (;;) {
		pt_skip_blanks(l);
		if (pt_eol(l))
			return 0;
		pt_token(l, &tok);
		/* "??": a bit the kernel has no name for (refused as unknown) */
		if (pt_len(&tok) != 2 || ((tok.p[0] < 'a' || tok.p[0] > 'z' || tok.p[1] < 'a' ||
					   tok.p[1] > 'z') && memcmp(tok.p, "??", 2))) {
			pt_err(it, "bad VmFlags code");
			return -1;
		}
		memcpy(code, tok.p, 2);
		code[2] = '\0';
		bit = proc_vmflag_bit(code);
		v->vmflags |= 1ULL << (bit < 0 ? PROC_VMF_UNKNOWN : bit);
	}
}

/* "NNN kB" */
static int parse_kb(struct plines *it, struct ptext *l, const char *key, uint64_t *val)
{
	pt_skip_blanks(l);
	if (pt_u64(l, 10, val) || pt_char(l, ' ') || pt_str(l, "kB") || pt_done(l)) {
		pt_err(it, "bad %s value", key);
		return -1;
	}
	return 0;
}

static int parse_smaps_field(struct plines *it, struct ptext *l, struct proc_vma *v)
{
	struct ptext key;

	if (pt_until(l, ':', &key)) {
		pt_err(it, "expected \"Key: value\"");
		return -1;
	}
#define KEY_IS(s) (pt_len(&key) == sizeof(s) - 1 && !memcmp(key.p, s, sizeof(s) - 1))
	if (KEY_IS("VmFlags"))
		return parse_vmflags(it, l, v);
	if (KEY_IS("Rss"))
		return parse_kb(it, l, "Rss", &v->rss_kb);
	if (KEY_IS("Pss"))
		return parse_kb(it, l, "Pss", &v->pss_kb);
	if (KEY_IS("Anonymous"))
		return parse_kb(it, l, "Anonymous", &v->anon_kb);
	if (KEY_IS("Swap"))
		return parse_kb(it, l, "Swap", &v->swap_kb);
	if (KEY_IS("ProtectionKey")) {
		pt_skip_blanks(l);
		if (pt_u32(l, 10, &v->pkey) || pt_done(l)) {
			pt_err(it, "bad ProtectionKey value");
			return -1;
		}
		return 0;
	}
#undef KEY_IS
	return 0;
}

int proc_parse_smaps(const char *text, size_t len, const char *name, struct proc_vmas *out)
{
	struct plines it;
	struct ptext l;
	int ret;

	memset(out, 0, sizeof(*out));
	plines_init(&it, text, len, name);
	while ((ret = plines_next(&it, &l)) > 0) {
		if (is_vma_header(&l)) {
			if (add_vma(&it, &l, out))
				goto err;
		} else if (!out->nr) {
			pt_err(&it, "field before the first mapping");
			goto err;
		} else if (parse_smaps_field(&it, &l, &out->v[out->nr - 1])) {
			goto err;
		}
	}
	if (ret < 0)
		goto err;
	return 0;
err:
	proc_vmas_free(out);
	return -1;
}

/*
 * The kernel builds these files a chunk per read() and resumes at the last
 * address shown; if the mappings change in between, a merged or grown
 * mapping shows up again and the text overlaps. A frozen task does not
 * change, but when we read our own file our buffer growth would, so self
 * reads go through a presized buffer.
 */
static int read_vmas(pid_t pid, const char *file, struct proc_vmas *out,
		     int (*parse)(const char *, size_t, const char *, struct proc_vmas *))
{
	char path[64], *buf;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	if (pt_proc_path(path, sizeof(path), pid, file))
		return -1;
	if (pid == getpid())
		ret = proc_read_file_presized(path, PROC_FILE_MAX, &buf, &len);
	else
		ret = proc_read_file(path, PROC_FILE_MAX, &buf, &len);
	if (ret)
		return -1;
	ret = parse(buf, len, path, out);
	free(buf);
	return ret;
}

int proc_read_maps(pid_t pid, struct proc_vmas *out)
{
	return read_vmas(pid, "maps", out, proc_parse_maps);
}

int proc_read_smaps(pid_t pid, struct proc_vmas *out)
{
	return read_vmas(pid, "smaps", out, proc_parse_smaps);
}
