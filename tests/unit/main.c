/* main.c - runs every unit suite; exit status is the number of failures (capped). */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, confparts_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, cookies_suite());
	srunner_add_suite(sr, form_suite());
	srunner_add_suite(sr, backoff_suite());
	srunner_add_suite(sr, sqlexpr_suite());
	srunner_add_suite(sr, sqlbuild_suite());
	srunner_add_suite(sr, tokenupdate_suite());
	srunner_add_suite(sr, oauth2_suite());
	srunner_add_suite(sr, loop_suite());
	srunner_add_suite(sr, profile_suite());
	srunner_add_suite(sr, jsonprofile_suite());
	srunner_add_suite(sr, strbuf_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, jobq_suite());
	srunner_add_suite(sr, writeback_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
