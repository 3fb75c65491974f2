/*
 * The inventory image: which format and tool wrote a set of images, and the
 * facts about the dumping host that a restore must check.
 *
 *   dump:    inventory_fill(&inv) → set root_pid etc. → img_create(IMG_INVENTORY)
 *            → img_write_entry → img_commit (last, so a complete inventory
 *            means a complete dump) → inventory_release(&inv)
 *   restore: img_read_one(IMG_INVENTORY) → inventory_check(inv) before
 *            anything is created
 */
#ifndef CRIU_INVENTORY_H
#define CRIU_INVENTORY_H

#include "inventory.pb-c.h"

int inventory_fill(InventoryEntry *inv);
void inventory_release(InventoryEntry *inv);
/* 0 when images described by @inv can be restored on this host, else -1. */
int inventory_check(const InventoryEntry *inv);

#endif /* CRIU_INVENTORY_H */
