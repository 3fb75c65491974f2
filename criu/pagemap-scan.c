/* PAGEMAP_SCAN answers into page runs (include/pagemap-scan.h). */
#define LOG_PREFIX "dump: "
#include "log.h"
#include "pagemap-scan.h"

#define PAGE	4096ull

int scan_fold(const struct page_region *vec, long n, uint64_t lo, uint64_t hi, bool split,
	      struct scan_run *cur, scan_emit_fn emit, void *arg)
{
	uint64_t floor = cur->end ? cur->end : lo;
	long i;

	for (i = 0; i < n; i++) {
		const struct page_region *r = &vec[i];
		bool old = split && !(r->categories & PAGE_IS_WRITTEN);

		if (r->start >= r->end || r->start < floor || r->end > hi ||
		    (r->start | r->end) & (PAGE - 1)) {
			pr_err("PAGEMAP_SCAN gave region %llx-%llx, outside %llx-%llx or out of order",
			       (unsigned long long)r->start, (unsigned long long)r->end,
			       (unsigned long long)floor, (unsigned long long)hi);
			return -1;
		}
		floor = r->end;
		if (cur->end == r->start && cur->old == old) {
			cur->end = r->end;
			continue;
		}
		if (cur->end && emit(arg, cur))
			return -1;
		cur->start = r->start;
		cur->end = r->end;
		cur->old = old;
	}
	return 0;
}
