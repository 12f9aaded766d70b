/*
 * membersedit: the edits of a member file (see membersedit.c), inside
 * lib/list: members.c offers them as members_edit().
 */
#ifndef FML_MEMBERSEDIT_H
#define FML_MEMBERSEDIT_H

#include "members.h"

fml_status membersedit_apply(const char *dir, const char *file, members_op op, const char *addr,
			     const char *arg, int fuzzy, str *err);

#endif
