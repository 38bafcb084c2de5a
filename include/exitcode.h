/* exitcode.h - the process's exit codes (SPEC, "Exit codes") and what each means, said once. */
#ifndef REFRESHER_EXITCODE_H
#define REFRESHER_EXITCODE_H

#define EXIT_OK 0
#define EXIT_FAILED_ROWS 1 /* at least one row failed; due again next run */
/* Usage or config error, or a set-up failure before anything was touched (libcurl, epoll):
 * SPEC's 2 is "nothing touched", and no other code says that. */
#define EXIT_CONFIG 2
#define EXIT_DATABASE 3 /* database unreachable, schema missing, or lost for too long */
#define EXIT_SIGNAL 4 /* stopped by SIGTERM/SIGINT after draining */
#define EXIT_CODE_COUNT 5

/* One phrase for code, as operators read it ("database unreachable or lost"); "ok" for 0. */
const char *exit_code_meaning(int code);
/* One word for code, for compact lists ("database"). */
const char *exit_code_word(int code);

#endif
