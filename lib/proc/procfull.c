/*
 * procfull: the full table of proc_drain()'s heavy parts (proc.h): command
 * mail and its records (cmd/), archive units (list/unitwrite), bounces
 * (actions/bounce, with GMime), content rules (actions/content, GMime and
 * libmagic), DKIM checks of posts (actions/dkimcheck, libopendkim).  Apart from
 * proc.c so that a program which does not name procfull_ops (the lean
 * alias pipe) links none of them.
 */
#include "procfull.h"
#include "cmd/cmdrecord.h"
#include "cmd/command.h"
#include "actions/bounce.h"
#include "actions/content.h"
#include "actions/dkimcheck.h"
#include "list/unitwrite.h"

const proc_ops procfull_ops = {
    .command = command_process,
    .command_done = cmdrecord_remove,
    .command_sweep = cmdrecord_sweep,
    .archive = unitwrite_unit,
    .bounce = bounce_handle,
    .content = content_apply,
    .dkim_check = dkimcheck_post,
};
