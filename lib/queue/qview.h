/*
 * qview: the admin's views of a list's outgoing queue (fmlqueue(8) list,
 * show, stats, delete).  Delivery is runner.h's.
 */
#ifndef FML_QVIEW_H
#define FML_QVIEW_H

#include <stdio.h>

#include "list/config.h"
#include "util/status.h"
#include "util/str.h"

/* One line per item of every area but tmp/; SENDER (NULL, "" or "@" for
 * all) keeps only the items of that envelope sender. */
fml_status qview_list(const char *dir, config *cf, const char *sender, FILE *out);
/* Item ID: its envelope, recipients' states and journal.  ST_NOINPUT when
 * there is no such item. */
fml_status qview_show(const char *dir, config *cf, const char *id, FILE *out);
/* Items and bytes per area, the oldest waiting item, today's counts. */
fml_status qview_stats(const char *dir, config *cf, FILE *out);
/* The list's state as OpenMetrics text (articles, queue items and bytes
 * by area, the oldest waiting item, today's deliveries, mail waiting or
 * held, mail kept by reason, the last good fmlqueue run) onto OUT. */
fml_status qview_metrics(const char *dir, config *cf, str *out);
/* Remove item ID and its journal, unless a live runner is delivering it. */
fml_status qview_delete(const char *dir, config *cf, const char *id);

#endif
