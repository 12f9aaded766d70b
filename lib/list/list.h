/*
 * list: the context a list-layer call takes when it needs more than the
 * home's path: the list home, its loaded configuration and the clock of
 * this run (one "now" for every decision of a run, so a run is
 * consistent and tests can set it).  Higher layers embed it in their own
 * context (actions' action_ctx) and pass &ctx->l down.
 */
#ifndef FML_LIST_H
#define FML_LIST_H

#include <time.h>

#include "config.h"

typedef struct list_ctx {
	const char *dir; /* the list home */
	config *cf;
	time_t now;
} list_ctx;

#endif
