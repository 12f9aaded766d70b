/*
 * digeststate: var/db/digest and var/db/digest.run, the digest state of a
 * list (see digeststate.c), and the digest mode syntax "N[mode]" of
 * actives' m= option and of the digest commands.  The state is a GLib hash
 * table of address -> last article; a run file adds its items.
 */
#ifndef FML_DIGESTSTATE_H
#define FML_DIGESTSTATE_H

#include <glib.h>

#include "bundle.h"
#include "util/status.h"
#include "util/str.h"

#define DIGESTSTATE_FILE "var/db/digest"
#define DIGESTSTATE_RUN "var/db/digest.run"

/* One queue item a run makes (and its parts). */
typedef struct digeststate_item {
	char name[96];
	bundle_mode mode;
	long from, to;
	str rcpts; /* NUL-separated */
	size_t n;
} digeststate_item;

digeststate_item *digeststate_item_new(GPtrArray *items, bundle_mode mode, long from, long to);
void digeststate_item_add(digeststate_item *it, const char *addr);
/* The free function of an items array (g_ptr_array_new_with_free_func). */
void digeststate_item_free(gpointer p);

/* An empty state: address -> last article. */
GHashTable *digeststate_new(void);
void digeststate_put(GHashTable *h, const char *addr, long last);
/* 1 and *LAST when ADDR has a line. */
int digeststate_get(GHashTable *h, const char *addr, long *last);
/* DIR/NAME (NAME one of the two files above) into BUF; -1 if too long. */
int digeststate_path(const char *dir, const char *name, char *buf, size_t size);
/* Read a state or run file: "ADDR LAST" lines into STATE, "item NAME MODE
 * FROM TO" and "to ADDR" lines into ITEMS (when not NULL).  A missing file
 * is empty; a malformed line is skipped with a warning. */
fml_status digeststate_load(const char *path, GHashTable *state, GPtrArray *items);
/* Write STATE (and ITEMS, for a run file) as HOME/NAME, durably. */
fml_status digeststate_write(const char *home, const char *name, GHashTable *state,
			     GPtrArray *items);

/* ADDR changed to TO (chaddr): its state, in both files, goes with it. */
fml_status digeststate_chaddr(const char *dir, const char *from, const char *to);

/* A digest spec "N[mode]" (N 0..99, mode one of bundle's names): 1 with
 * *N and MODE (lower case, "" for none) set, else 0. */
int digeststate_spec(const char *s, int *n, char mode[16]);

#endif
