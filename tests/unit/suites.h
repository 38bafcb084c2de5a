/* suites.h - the Check suites of the unit test binary, one per module. */
#ifndef REFRESHER_TEST_SUITES_H
#define REFRESHER_TEST_SUITES_H

#include <check.h>

Suite *parse_suite(void);       /* test_parse.c */
Suite *config_suite(void);      /* test_config.c */
Suite *confparts_suite(void);   /* test_confparts.c: envexpand, secrets, confdiag, confyaml, defaults */
Suite *cli_suite(void);         /* test_cli.c */
Suite *log_suite(void);         /* test_log.c */
Suite *cookies_suite(void);     /* test_cookies.c */
Suite *form_suite(void);        /* test_form.c */
Suite *backoff_suite(void);     /* test_backoff.c */
Suite *tokenupdate_suite(void); /* test_tokenupdate.c */
Suite *oauth2_suite(void);      /* test_oauth2.c */
Suite *sqlexpr_suite(void);     /* test_sqlexpr.c: sqlexpr and the mass-logout guard */
Suite *loop_suite(void);        /* test_loop.c */
Suite *profile_suite(void);     /* test_profile.c */
Suite *strbuf_suite(void);      /* test_strbuf.c */
Suite *sqlbuild_suite(void);    /* test_sqlbuild.c: golden statement texts, quoting */
Suite *policy_suite(void);      /* test_policy.c: retry, breaker, in-flight limit, pacer, db backoff */
Suite *jobq_suite(void);        /* test_jobq.c */
Suite *writeback_suite(void);   /* test_writeback.c */
Suite *jsonprofile_suite(void); /* test_jsonprofile.c: JSON Pointer, RFC 3339, templates, answers */

#endif
