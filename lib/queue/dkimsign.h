/*
 * dkimsign: the list's DKIM signatures on what it sends (articles,
 * digests, replies, notices): the runner_signer (runner.h) of the programs
 * that link libopendkim.  DKIM_SELECTOR with DKIM_PRIVATE_KEY (rsa-sha256)
 * and, when set, DKIM_PRIVATE_KEY_ED25519 with DKIM_SELECTOR_ED25519 (a
 * second signature, ed25519-sha256), for DKIM_DOMAIN.  Key files are read
 * at each item (a key replaced takes effect at once); a relative path is
 * under the list home.  The body is hashed once per item and run; the
 * runner asks for one signature per item, or, when each recipient's copy
 * carries its own fields (one-click unsubscribe), one per recipient.
 */
#ifndef FML_DKIMSIGN_H
#define FML_DKIMSIGN_H

#include "list/config.h"
#include "runner.h"
#include "util/status.h"
#include "util/str.h"

#include <sys/types.h>

extern const runner_signer dkimsign_signer;

/* One signature of the message in FD [START, END) (makefml check). */
fml_status dkimsign_item(const char *dir, config *cf, int fd, off_t start, off_t end,
			 const char *eol, str *out, str *err);

#endif
