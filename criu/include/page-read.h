#ifndef CRIU_PAGE_READ_H
#define CRIU_PAGE_READ_H
/*
 * pre-dump --pre-dump-mode read (page-read.c): the runs dump_pages() would
 * store are noted while the tree is frozen and copied with
 * process_vm_readv() once it runs again.
 */
#include <stdbool.h>
#include <stdint.h>

struct cr_img;
struct cr_options;
struct dump_task;
struct dump_tree;

bool page_read_mode(const struct cr_options *o);
int page_read_begin(struct dump_task *t);		/* t->rd made: dump_pages() notes runs */
int page_read_add(struct dump_task *t, uint64_t start, uint64_t len);
void page_read_hold(struct dump_task *t, struct cr_img *pages);	/* kept until the copy */
int page_read_copy(struct dump_tree *tr);		/* released: copy and commit */
void page_read_free(struct dump_task *t);

#endif
