/*
 * Writing a dump in the established image format (issue 11, step 5).
 *
 * The exporter reads a directory of our own images, as `criu dump` writes
 * them, and writes the same dump in the established format into another
 * (empty) directory. It is the mirror image of the importer (est-import.h):
 * a directory it writes converts back through est_import() and restores
 * with `criu restore`.
 *
 *   est_export(in, out): 0 when every file of @in was converted, -1 (the
 *   reason logged) otherwise; @out may then hold a partial set.
 *
 * What the established format cannot express (a field that a restore needs
 * and the format lacks: mlock'ed vmas, PR_SET_TSC, membarrier registrations
 * ...) is refused with "... cannot be written in the established format:
 * ..."; what the exporter does not convert yet (other fd kinds, shared
 * memory, stopped tasks) with "not supported yet: ...". Pages a child shares
 * copy-on-write with its parent (PE_COW) are stored in the child too, as the
 * established tool dumps them. Fields that are only hints are dropped:
 * Documentation/images.md lists them.
 */
#ifndef CRIU_EST_EXPORT_H
#define CRIU_EST_EXPORT_H

/*
 * With EST_EXPORT_EXT, state the format cannot express is not refused: our
 * own image that holds it is kept whole as xt-NAME (EST_MAGIC_COMMON, then
 * our image as it is), and inventory.img gets img_version EST_IMG_VERSION_EXT
 * so that a restore that does not know our extensions stops at once.
 * EST_EXPORT_MOVE: @in is a scratch directory; page files are moved to @out
 * instead of copied where their layout allows it.
 */
#define EST_EXPORT_EXT		1u
#define EST_EXPORT_MOVE		2u
/* --file-validation filesize: no reg_file_entry.build_id (else every mapped ELF file's and exe's) */
#define EST_EXPORT_NO_BUILD_ID	4u
/* EST_EXPORT_NO_NET_LOCK: --network-lock skip (the inventory's network_lock_method) */
#define EST_EXPORT_NO_NET_LOCK	8u
/* EST_EXPORT_ZPAGES: --compress, inventory img_version | EST_IMG_VERSION_ZPAGES (zpages.h) */
#define EST_EXPORT_ZPAGES	16u

int est_export(int in_dirfd, int out_dirfd, unsigned int flags);

/* Our dump statistics as the format's (times in us, saturated to 32 bits). */
struct DumpStatsEntry;
struct Est__DumpStatsEntry;
void est_dump_stats(const struct DumpStatsEntry *ours, struct Est__DumpStatsEntry *d);

#endif /* CRIU_EST_EXPORT_H */
