/*
 * cfedit: change one variable in a config file (makefml config LIST NAME
 * VALUE), keeping every other line byte for byte, written atomically.
 * The value is not judged here: the caller validates it through the config
 * module first (config_set) and reloads afterwards.
 */
#ifndef FML_CFEDIT_H
#define FML_CFEDIT_H

#include "util/status.h"
#include "util/str.h"

/* In TEXT (LEN bytes), replace the last "NAME = ..." statement (its
 * indented continuation lines included) by "NAME = VALUE", or append one.
 * OUT receives the new text. */
void cfedit_replace(const char *text, size_t len, const char *name, const char *value, str *out);

/* cfedit_replace() on the file PATH (a missing file is empty), committed
 * through safefile (temp + fsync + rename + directory fsync), the file's
 * mode kept.  ST_DATAERR for a NAME or VALUE that cannot be written (bad
 * name, control characters), ST_TEMPFAIL for I/O trouble; ERR says why. */
fml_status cfedit_set(const char *path, const char *name, const char *value, str *err);

#endif
