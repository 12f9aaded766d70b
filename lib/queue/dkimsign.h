/*
 * dkimsign: the list's DKIM signatures on what it sends (articles,
 * digests, replies, notices): the runner_signer (runner.h) of the programs
 * that link libopendkim.  DKIM_SELECTOR with DKIM_PRIVATE_KEY (rsa-sha256)
 * and, when set, DKIM_PRIVATE_KEY_ED25519 with DKIM_SELECTOR_ED25519 (a
 * second signature, ed25519-sha256), for DKIM_DOMAIN.  Key files are read
 * at each item (a key replaced takes effect at once); a relative path is
 * under the list home.  One signature per queue item and run, never per
 * recipient: the runner puts it before the message on every connection.
 */
#ifndef FML_DKIMSIGN_H
#define FML_DKIMSIGN_H

#include "list/config.h"
#include "util/status.h"
#include "util/str.h"

#include <sys/types.h>

fml_status dkimsign_item(const char *dir, config *cf, int fd, off_t start, off_t end,
			 const char *eol, str *out, str *err);

#endif
